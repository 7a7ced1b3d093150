"""How much of a document parsed whole is ever read: a leaf, so that the HTTP downloads and
the file readers (inventory/reading.py) share the bound without importing each other."""

# A key file or catalog is read into memory whole: from a file or from a URL (every page).
MAX_DOCUMENT = 64 << 20
