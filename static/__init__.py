"""The demo page's files, installed as the package data `app.static`."""
