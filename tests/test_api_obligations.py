"""GET /api/plans/{id}/obligations on the shipped plans: filters, validation, error shapes."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from assistant.api import create_app


class _Plans:
    """The one thing the route needs from an Assistant: the parsed plans."""

    def __init__(self, corpus):
        self._plans = list(corpus.plans)

    def plans(self):
        return self._plans

    def item(self, item_id):
        return next(((p, i) for p in self._plans for i in p.items if i.id == item_id), None)


@pytest.fixture(scope="module")
def client(corpus):
    # the Host a loopback server answers to (TestClient's default "testserver" is refused)
    return TestClient(create_app(_Plans(corpus), ui=False), base_url="http://127.0.0.1")


def test_obligations_filtered_by_party_and_date(client):
    every = client.get("/api/plans/hengyang-2022/obligations")
    assert every.status_code == 200 and len(every.json()) >= 20
    r = client.get("/api/plans/hengyang-2022/obligations", params={"party": "民办", "before": "2022-06-30"})
    assert r.status_code == 200
    (record,) = r.json()
    assert record["deadline"] == {"printed": "6月底前", "kind": "date", "due": "2022-06-30", "start": None,
                                  "every": None}
    assert record["parties"] == ["民办"] and record["item"] == "5" and record["item_id"] == "hengyang-2022:5"
    assert "“公参民”学校全部转为公办" in record["action"]
    assert record["link_text"].endswith("·第5项")
    span = record["quote"]
    assert span["end"] - span["start"] == len(record["action"])


def test_primary_schools_see_general_duties_but_not_kindergarten_ones(client):
    rows = client.get("/api/plans/shaodong-2020/obligations", params={"party": "小学"}).json()
    parties = {p for r in rows for p in r["parties"]}
    assert "学校" in parties and "小学" in parties and "幼儿园" not in parties
    dated = client.get("/api/plans/shaodong-2020/obligations", params={"before": "2020-12-31"}).json()
    assert dated and all(r["deadline"]["due"] <= "2020-12-31" for r in dated)


@pytest.mark.parametrize("url,status,fragment", [
    ("/api/plans/nowhere-2020/obligations", 404, "no plan with id 'nowhere-2020'"),
    ("/api/plans/shaodong-2020/obligations?before=2020-13-01", 422, "before"),
    ("/api/plans/shaodong-2020/obligations?before=6月底", 422, "before"),
    ("/api/plans/shaodong-2020/obligations?party=教育局", 422, "party"),
])
def test_bad_requests_get_clear_errors(client, url, status, fragment):
    r = client.get(url)
    assert r.status_code == status
    assert fragment in r.json()["error"]


# ---- the item page an obligation card links to ---------------------------------------------
def test_item_page_marks_the_obligation_clause(client):
    from assistant.web_item_page import item_link

    record = next(r for r in client.get("/api/plans/shaodong-2020/obligations").json() if "明厨亮灶" in r["action"])
    url = item_link(record["plan_id"], record["item"], record["quote"]["start"], record["quote"]["end"])
    assert url.startswith("/plans/shaodong-2020/items/28?from=") and url.endswith("#clause")
    assert record["link"] == url  # the API's record carries the same link as the card
    page = client.get(url.split("#")[0])
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    marked = page.text.split("<mark id='clause'>")[1].split("</mark>")[0]
    assert marked == record["action"]  # exactly the clause, escaped text equal to the record
    assert "第28项" in page.text and "邵东市教育局2020年工作要点" in page.text
    assert page.text.count("<mark") == 1


@pytest.mark.parametrize("query", ["?from=abc&to=5", "?from=5&to=999999", "?from=30&to=10", "?from=-1&to=4",
                                   "?from=1e3&to=2e3", "?from=" + "9" * 40 + "&to=1", "?from=%EF%BC%91&to=3",
                                   "?from=3", "?to=3"])
def test_hostile_offsets_show_the_item_unmarked(client, query):
    page = client.get("/plans/shaodong-2020/items/28" + query)
    assert page.status_code == 200 and "<mark" not in page.text
    assert "已显示整项原文" in page.text and "加强财务食堂后勤管理" in page.text


def test_item_page_unknown_plan_or_item_is_404_and_text_is_escaped(client):
    assert client.get("/plans/nowhere-2020/items/1").status_code == 404
    missing = client.get("/plans/shaodong-2020/items/999?from=1&to=2")
    assert missing.status_code == 404 and "没有第999项" in missing.json()["error"]
    hostile = client.get("/plans/%3Cscript%3Ealert(1)%3C%2Fscript%3E/items/1")
    assert hostile.status_code == 404 and "<script>alert" not in hostile.text
    plain = client.get("/plans/shaodong-2020/items/28")
    assert plain.status_code == 200 and "<mark" not in plain.text and "已显示整项原文" not in plain.text
