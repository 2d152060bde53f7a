"""Video audiences: the official's console calls a video room; signalling and the audience's record."""
