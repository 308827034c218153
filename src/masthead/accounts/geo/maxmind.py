"""Any MaxMind DB (.mmdb) in the GeoIP2/GeoLite2 layout: City databases give the province in
mainland China, Country databases the country. Used when MASTHEAD_GEOIP_DATABASE names a file.

DB-IP's free "lite" databases use the same layout and work too.
"""

from pathlib import Path

import maxminddb

from masthead.accounts.geo import china
from masthead.accounts.geo.base import GeoBackend, Location


class MaxMindBackend(GeoBackend):
    def __init__(self, path: str | Path) -> None:
        # The C extension memory-maps the file when available: cheap to share between threads.
        self._reader = maxminddb.open_database(str(path))

    def locate(self, address: str) -> Location | None:
        try:
            record = self._reader.get(address)
        except ValueError:  # not an address, or IPv6 in an IPv4-only database
            return None
        if not isinstance(record, dict):
            return None
        code = str((record.get("country") or {}).get("iso_code") or "").upper()
        if len(code) != 2:
            return None
        province = ""
        if code == "CN":
            for subdivision in record.get("subdivisions") or []:
                sub_code = str(subdivision.get("iso_code") or "").upper()
                if sub_code in china.SEPARATE:  # some databases file Hong Kong, Macau, Taiwan under CN
                    return Location(country=sub_code)
                names = subdivision.get("names") or {}
                province = china.province(sub_code, str(names.get("zh-CN") or ""))
                if province:
                    break
        return Location(country=code, province=province)

    def close(self) -> None:
        self._reader.close()
