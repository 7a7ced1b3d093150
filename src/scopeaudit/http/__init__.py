"""Inputs over HTTP(S) and the live probe's client.

Only the modules that talk to the network import httpx (``client``, ``download``), so the
command line can read the policy and option modules without paying for it.
"""
