"""The default backend: GeoIP2Fast's database, shipped inside the `geoip2fast` package (offline).

Country level only, so a mainland address is just "CN" (shown as 中国, not a province): configure a
MaxMind-format city database (MASTHEAD_GEOIP_DATABASE) for provinces. The IPv6 data file is used; it
covers IPv4 too. Loading takes about 0.1 s and 40 MB, once per process, on the first lookup.
"""

import threading

from masthead.accounts.geo.base import GeoBackend, Location

DATA_FILE = "geoip2fast-ipv6.dat.gz"


class CountryBackend(GeoBackend):
    def __init__(self) -> None:
        self._geoip = None
        self._lock = threading.Lock()

    def _database(self):
        if self._geoip is None:
            with self._lock:
                if self._geoip is None:
                    from geoip2fast import GeoIP2Fast

                    self._geoip = GeoIP2Fast(geoip2fast_data_file=DATA_FILE)
        return self._geoip

    def locate(self, address: str) -> Location | None:
        result = self._database().lookup(address)
        code = (result.country_code or "").upper()
        # Private, reserved, unknown and invalid addresses come back as "--" or "".
        if result.is_private or len(code) != 2 or not code.isalpha():
            return None
        return Location(country=code)
