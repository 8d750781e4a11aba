"""Pelican settings of the 阳光抽查 portal (development build: `make html`, `sunshine build`).

The record pages (items, plans, tasks, results, enterprises, statistics, ledger, downloads) are
written by the `sunshine.portal` plugin from SUNSHINE_DATA; the Markdown files in content/pages/
are the editorial pages (关于本站, 政策依据, 如何验证, 数据说明与隐私). `sunshine build` applies the
settings the plugin relies on (see sunshine.portal.build.REQUIRED_SETTINGS) over this file.
"""

AUTHOR = "示例市“双随机、一公开”联席会议办公室"
SITENAME = "阳光抽查"
SITEURL = ""  # pages always link relatively (RELATIVE_URLS), so output/ works from any sub-path

PATH = "content"
THEME = "theme"
PLUGINS = ["sunshine.portal"]

# --- the portal plugin
SUNSHINE_DATA = "data"
# Absolute URL of the published site, only for sitemap.xml and the Atom feeds (which need absolute
# URLs). Empty: https://<ledger origin>/ from jurisdiction.yaml.
SUNSHINE_PUBLIC_URL = ""

TIMEZONE = "Asia/Shanghai"
DEFAULT_LANG = "zh-CN"
DEFAULT_DATE_FORMAT = "%Y年%m月%d日"
RELATIVE_URLS = True

# Editorial pages: content/pages/<slug>.md → <slug>/index.html (ASCII slugs set in each file).
PAGE_PATHS = ["pages"]
PAGE_URL = "{slug}/"
PAGE_SAVE_AS = "{slug}/index.html"
ARTICLE_PATHS = ["articles"]
STATIC_PATHS = []
THEME_STATIC_DIR = "theme"
DIRECT_TEMPLATES = []
ARTICLE_SAVE_AS = ""
TAG_SAVE_AS = ""
CATEGORY_SAVE_AS = ""
AUTHOR_SAVE_AS = ""
ARCHIVES_SAVE_AS = ""
FEED_ALL_ATOM = None
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None

# Autoescape everywhere: data never becomes markup. Editorial Markdown is marked safe in page.html.
JINJA_ENVIRONMENT = {"trim_blocks": True, "lstrip_blocks": True, "autoescape": True}
MARKDOWN = {
    "extension_configs": {
        "markdown.extensions.extra": {},
        "markdown.extensions.toc": {"permalink": False},
    },
    "output_format": "html5",
}
