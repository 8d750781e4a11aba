"""Sunshine (阳光抽查): verifiable 双随机、一公开 spot checks and their static public portal.

The pure core (canonical encoding, draw, ledger, signatures, verification) imports only the
standard library and ``cryptography``; site generation, data import and the CLI add the rest.
"""

__version__ = "0.1.0"
