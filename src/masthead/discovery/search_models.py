"""Models of the search index (owned by the search engine; see discovery/backends/)."""

__all__: list[str] = []
