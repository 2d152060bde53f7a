"""Everything HTTP: routes and views for each audience, templates, static files, auth, translations."""
