"""docs/cost.md embeds the price table exactly as the code renders it from prices.json."""

from mlopsctl.cost import price_table_markdown
from tests.conftest import ROOT


def test_docs_price_table_matches_prices_json():
    doc = (ROOT / "docs" / "cost.md").read_text()
    start = doc.index("<!-- price-table:start")
    block = doc[doc.index("\n", start) + 1 : doc.index("<!-- price-table:end -->")]
    assert block == price_table_markdown()
