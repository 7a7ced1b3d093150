"""What a client is: the user agent (its first UA_CHARS characters; none is ``-``) and the
network of the address the request came from, ``"curl/8.10 @ 198.51.100.0/24"``.

* The network is the address's /24 for IPv4 and its /64 for IPv6, so the hosts behind one
  NAT, or one host's rotating privacy addresses, count once. An IPv4-mapped IPv6 address
  (``::ffff:198.51.100.7``, what nginx logs on a dual-stack listener) is its IPv4 address.
* An address is read as logs write it: ``198.51.100.20:41234`` and ``[2001:db8::1]:443``
  (what Go and several gateways log) are the address without the port; a zone
  (``fe80::1%eth0``) is dropped. No address is ``-``; anything else (a host name, a list,
  garbage) is ``?``.

This module is the one definition (its names are also those of usage/semantics.py). Every
reader hands the aggregator the address text as logged (nginx and Envoy take the first of a
forwarded list first); the DuckDB engine's SQL names the /24 of the IPv4 forms
(``IPV4_FORMS``) itself and leaves every other address to ``network_of``; the warehouse SQL
reduces the same forms with the same patterns, and passes any other address on for the
reader to judge.
"""

from __future__ import annotations

import ipaddress
import re

UA_CHARS = 120  # a client's user agent is its first 120 characters
IPV4_PREFIX = 24  # an IPv4 client's network: its /24
IPV6_PREFIX = 64  # an IPv6 client's network: its /64

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
# A canonical dotted IPv4 address (what ipaddress accepts and prints back unchanged)
IPV4 = rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}"
PORT = "[0-9]{1,5}"
_MAPPED = "::[fF]{4}:"  # ::ffff: (either case), before a dotted IPv4 address
# The IPv4 client forms SQL reduces to their /24 (each one network_of reads as that IPv4
# address): bare, with a port, IPv4-mapped, and any of those in brackets with or without a
# port. Plain regex syntax that every supported SQL dialect reads alike (sql/regex.py).
IPV4_FORMS = (rf"{IPV4}(?::{PORT})?|{_MAPPED}{IPV4}"
              rf"|\[(?:{_MAPPED})?{IPV4}\](?::{PORT})?")
# An IPv6 address in hex and colons alone, in brackets, with or without a port: the warehouse
# SQL passes on the address inside (its group 1), which network_of reads as it reads the whole.
BRACKETED_IPV6 = rf"\[([0-9A-Fa-f:]+)\](?::{PORT})?"

# The network of a logged address that is no IP address (a host name, a list, blank text)
NOT_AN_ADDRESS = "?"

_BRACKETED_RE = re.compile(rf"\[([^\[\]]*)\](?::{PORT})?")
_IPV4_PORT_RE = re.compile(rf"({IPV4}):{PORT}")


def without_port(value: str) -> str:
    """A logged client address without its port and brackets (``[2001:db8::1]:443`` is
    ``2001:db8::1``, ``198.51.100.20:41234`` is ``198.51.100.20``, whitespace around
    either ignored); anything else as it is."""
    text = value.strip()
    found = _BRACKETED_RE.fullmatch(text) or _IPV4_PORT_RE.fullmatch(text)
    return value if found is None else found[1]


def client_address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address of a logged client address (see the module docstring), or None."""
    try:
        addr = ipaddress.ip_address(without_port(value).strip().split("%")[0])
    except ValueError:
        return None
    if addr.version == 6 and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def network_of(ip: str | None) -> str:
    """The client's network: /24 for IPv4, /64 for IPv6; ``-`` for no address, ``?`` for
    one that is no IP address."""
    if not ip:
        return "-"
    addr = client_address(ip)
    if addr is None:
        return NOT_AN_ADDRESS
    prefix = IPV4_PREFIX if addr.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False))


def client_name(agent: str, network: str) -> str:
    """A client's id from its user agent (already cut to UA_CHARS) and its network."""
    return f"{agent} @ {network}"


def client_id(ua: str | None, ip: str | None) -> str:
    """The client of a request with this user agent and address."""
    return client_name((ua or "-")[:UA_CHARS], network_of(ip))
