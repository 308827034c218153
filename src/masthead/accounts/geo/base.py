"""What a geolocation backend answers: where an address is, as codes, never as display text.

A backend is a class with ``locate(address) -> Location | None``; it is created once per process
(see ``masthead.accounts.geo.backend()``) and must be safe to call from several threads.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    country: str  # ISO 3166-1 alpha-2, upper case ("CN", "US")
    province: str = ""  # for mainland China only: the province's short Chinese name ("广东"), when known


class GeoBackend(ABC):
    """Looks addresses up in a local database: no network, no address leaves the process."""

    @abstractmethod
    def locate(self, address: str) -> Location | None:
        """Where a public IPv4/IPv6 address is; None when the database does not know it."""
