"""The JSON API (/api/v1/): another door into the same rooms as the web pages (docs/api.md)."""
