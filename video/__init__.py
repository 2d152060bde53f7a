"""Video audiences: the official's console calls a women's-section room; signalling and the audience's record."""
