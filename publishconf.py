"""Pelican settings for the published site: `sunshine build --settings publishconf.py`.

Everything from pelicanconf.py, plus the public address used by sitemap.xml and the Atom feeds
(set SUNSHINE_PUBLIC_URL in the environment, e.g. https://sjj.example.gov.cn/sgcc/). Pages keep
linking relatively, so the same output/ also works when served from a sub-path.
"""

import os
import sys

sys.path.append(os.path.dirname(os.path.abspath(__file__)))
from pelicanconf import *  # noqa: E402,F403

SUNSHINE_PUBLIC_URL = os.environ.get("SUNSHINE_PUBLIC_URL", "")
