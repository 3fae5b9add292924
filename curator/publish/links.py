"""Links a card may print: they must resolve on the Hub, where the card's folder is all there is.

``docs/NAME.md`` mentioned in a recipe's description becomes a link to that page in the
repository named in pyproject's ``[project.urls]`` (a test keeps the two equal).
"""

from __future__ import annotations

import re

#: pyproject.toml [project.urls] Repository
REPOSITORY_URL = "https://github.com/reasoning-curator/reasoning-curator"
#: where the docs pages live in the repository
DOCS_URL = f"{REPOSITORY_URL}/blob/main/docs"
PYPI_URL = "https://pypi.org/project/reasoning-curator/"

_DOCS_MENTION = re.compile(r"(?<![\w/(\[])docs/([\w-]+\.md)\b")


def doc_url(page: str) -> str:
    """``recipes.md`` -> the page's URL in the repository."""
    return f"{DOCS_URL}/{page}"


def link_docs(markdown: str) -> str:
    """Turn plain ``docs/NAME.md`` mentions into links that resolve off the checkout."""
    return _DOCS_MENTION.sub(lambda m: f"[docs/{m.group(1)}]({doc_url(m.group(1))})", markdown)
