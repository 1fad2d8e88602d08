"""Which network addresses pages and feeds may be fetched from: public ones on the internet.

Loopback, private, link-local, shared (CGNAT), unspecified, multicast and reserved addresses
are the bot's own machine and its neighbours; a page address naming one of them is refused
unless the admin allows an intranet. IPv6 forms that carry an IPv4 address are judged by it.
"""

from ipaddress import IPv4Address, IPv6Address, IPv6Network, ip_address

# These IPv6 ranges embed an IPv4 address that the packet ends up reaching.
_NAT64 = IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = IPv6Network("::/96")


def is_public(address: str) -> bool:
    """True for a unicast address on the public internet; False for anything else or not an IP."""
    try:
        parsed = ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    embedded = _embedded_ipv4(parsed) if isinstance(parsed, IPv6Address) else None
    judged = embedded or parsed
    return judged.is_global and not judged.is_multicast and not judged.is_reserved


def _embedded_ipv4(address: IPv6Address) -> IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return None
