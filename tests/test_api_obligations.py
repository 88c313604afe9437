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
