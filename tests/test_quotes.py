"""Every headline's reported number rests on the report's own text, quoted verbatim."""

import re

from tfdl.harness import claims, cli

import pytest
from conftest import reports_dir

REPORTS = sorted(cli._scripts())


def _normalized(text):
    return re.sub(r"\s+", " ", text).strip()


@pytest.mark.parametrize("name", REPORTS)
def test_every_numeric_headline_quotes_its_report(name):
    folder = reports_dir()
    if folder is None:
        pytest.skip("the reports' texts are not here (set TFDL_REPORTS_DIR or lay out "
                    "../shared/reports beside the checkout)")
    report = cli.load_report(name)
    text = _normalized((folder / report.report_file).read_text(encoding="utf-8"))
    missing, not_found = [], []
    for claim in report.claims:
        numeric = isinstance(claim.reported, (int, float)) and not isinstance(claim.reported, bool)
        if claim.kind == claims.HEADLINE and numeric and not claim.quote:
            missing.append(claim.id)
        if claim.quote and _normalized(claim.quote) not in text:
            not_found.append(claim.id)
    assert not missing, f"numeric headlines without a quote: {missing}"
    assert not not_found, f"quotes not found verbatim in {report.report_file}: {not_found}"
