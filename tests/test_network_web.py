"""The network on the case page, its fragment and its picture: content, accessibility, safety.

Bryn Cotter is the perpetrator in a listed case (Alys Marrow, their son Cai). His ex-partner Dana
Voss is the victim in a case only referred, which a police representative may not open; his new
partner Erin Hale is in no case; his brother Fenn Cotter is in no case either.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date
from html import escape

import pytest
import sqlalchemy as sa

from marac import graph
from marac.domain import AgencyKind, CaseStatus, InvolvementKind, RelationshipKind, Role
from marac.extensions import db
from marac.models import AuditEntry

from .conftest import count_queries, login

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def setup(make_area, make_agency, make_user, make_person, make_case, relate, involve):  # noqa: ANN001
    area = make_area(code="NW")
    police = make_agency(area, AgencyKind.POLICE, name="Netshire Police")
    team = make_agency(area, AgencyKind.OTHER, name="Netshire MARAC Team")
    rep = make_user(Role.AGENCY_REP, police, username="rep")
    coordinator = make_user(Role.COORDINATOR, team, username="coord")
    alys = make_person(area, given="Alys", family="Marrow")
    bryn = make_person(area, given="Bryn", family="Cotter")
    cai = make_person(area, given="Cai", family="Marrow", dob=date(2018, 3, 3))
    dana = make_person(area, given="Dana", family="Voss")
    erin = make_person(area, given="Erin", family="Hale")
    fenn = make_person(area, given="Fenn", family="Cotter")
    relate(bryn, alys, RelationshipKind.PARTNER)
    relate(bryn, dana, RelationshipKind.EX_PARTNER, separated_on=date(2025, 12, 20))
    relate(bryn, erin, RelationshipKind.PARTNER)
    relate(bryn, fenn, RelationshipKind.SIBLING)
    relate(alys, cai, RelationshipKind.PARENT)
    relate(bryn, cai, RelationshipKind.PARENT)
    case = make_case(area, alys, (bryn,), (cai,), status=CaseStatus.HEARD)
    hidden = make_case(area, dana, (bryn,), status=CaseStatus.REFERRED)
    # Working with him would open his other case to the police: the police work with her.
    involve(police, alys, InvolvementKind.CASEWORK, worker=rep)
    return {
        "area": area,
        "police": police,
        "rep": rep,
        "coordinator": coordinator,
        "case": case,
        "hidden": hidden,
    }


def _text(response) -> str:  # noqa: ANN001
    return response.get_data(as_text=True)


def test_case_page_shows_the_network_as_picture_and_words(client, signed_in, setup) -> None:  # noqa: ANN001
    signed_in(setup["rep"])
    case_id = setup["case"].id
    page = _text(client.get(f"/cases/{case_id}"))
    # The page asks for its network in a request of its own, with a link for those without script.
    section = page[page.index('<section id="network"') :].split("</section>")[0]
    assert f'hx-get="/cases/{case_id}/network"' in section and 'hx-trigger="load"' in section
    assert f'href="/cases/{case_id}/network"' in section
    fragment = _text(client.get(f"/cases/{case_id}/network", headers={"HX-Request": "true"}))
    assert fragment.lstrip().startswith('<section id="network"')
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in fragment
    for expected in (
        "Bryn Cotter is the partner of Alys Marrow.",
        "Bryn Cotter is a parent of Cai Marrow.",
        # Dana's case is not open to the police yet, and Erin is in no case: both anonymised.
        "Bryn Cotter is the ex-partner of Another partner",
        "Bryn Cotter is the partner of Another partner",
        "Netshire Police works with Alys Marrow (Casework, named worker Test User).",
        "1 other case you cannot open.",
        "Perpetrator in 1 other case you cannot open.",
        "Bryn Cotter \u2192 parent of \u2192 Cai Marrow",
    ):
        assert expected in fragment, expected
    for hidden in (
        "Dana",
        "Voss",
        "Erin",
        "Hale",
        "Fenn",
        "20 Dec 2025",
        setup["hidden"].reference,
    ):
        assert hidden not in page, hidden
        assert hidden not in fragment, hidden


def test_the_case_page_does_not_build_the_network(client, signed_in, setup, monkeypatch) -> None:  # noqa: ANN001
    """The network reads two links out from everyone in the case; the case page must not wait."""
    signed_in(setup["rep"])
    built = []
    real = graph.build_neighbourhood
    monkeypatch.setattr(
        graph, "build_neighbourhood", lambda *a, **k: built.append(1) or real(*a, **k)
    )
    assert client.get(f"/cases/{setup['case'].id}").status_code == 200
    assert built == []
    assert client.get(f"/cases/{setup['case'].id}/network").status_code == 200
    assert built == [1]


def test_the_coordinator_sees_everyone_on_the_area_records(client, signed_in, setup) -> None:  # noqa: ANN001
    signed_in(setup["coordinator"])
    page = _text(client.get(f"/cases/{setup['case'].id}/network"))
    for expected in (
        "Bryn Cotter is the ex-partner of Dana Voss (separated 20 Dec 2025).",
        "Bryn Cotter is the partner of Erin Hale.",
        "Bryn Cotter is a sibling of Fenn Cotter.",
        setup["hidden"].reference,
        "Bryn Cotter \u2192 ex-partner (separated 20 Dec 2025) \u2192 Dana Voss",
    ):
        assert expected in page, expected
    assert "Another partner" not in page


def _svg(client, case_id: int) -> tuple[str, ET.Element]:  # noqa: ANN001
    response = client.get(f"/cases/{case_id}/network.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    text = _text(response)
    return text, ET.fromstring(text.encode())  # noqa: S314 - our own output, checked for form


def test_the_picture_is_well_formed_accessible_and_safe(client, signed_in, setup) -> None:  # noqa: ANN001
    signed_in(setup["rep"])
    text, root = _svg(client, setup["case"].id)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    ids = {element.get("id") for element in root.iter()}
    title_id, desc_id = root.get("aria-labelledby").split()
    assert {title_id, desc_id} <= ids
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title.get("id") == title_id and title.text.startswith("Network around case")
    assert desc.get("id") == desc_id and "also listed in the text" in desc.text
    # A key, with every kind of person and link named in words.
    key = root.find(f".//{SVG}g[@class='network-key']")
    key_text = " ".join(t.text or "" for t in key.iter(f"{SVG}text"))
    for word in ("Victim", "Perpetrator", "Child", "Other adult", "Agency", "Anonymised person"):
        assert word in key_text
    for word in ("Partner", "Ex-partner", "Parent", "Step-parent", "Sibling", "Same household"):
        assert word in key_text
    # Nothing the Content-Security-Policy forbids, and no script at all.
    assert not [e for e in root.iter() if "style" in e.attrib or e.tag == f"{SVG}script"]
    assert "<script" not in text and "javascript:" not in text
    # Every node and every link carries its own words for a tooltip or a screen reader.
    for group in root.iter(f"{SVG}g"):
        if (group.get("class") or "").startswith(("network-node ", "network-link ")):
            assert group.find(f"{SVG}title") is not None


def test_the_picture_is_the_same_every_time(client, signed_in, setup) -> None:  # noqa: ANN001
    signed_in(setup["rep"])
    first, _ = _svg(client, setup["case"].id)
    second, _ = _svg(client, setup["case"].id)
    assert first == second


def test_picture_and_list_show_the_same_people_and_links(app, setup) -> None:  # noqa: ANN001
    for user in (setup["rep"], setup["coordinator"]):
        client = app.test_client()
        assert login(client, user.username).status_code == 302
        fragment = _text(
            client.get(f"/cases/{setup['case'].id}/network", headers={"HX-Request": "true"})
        )
        listed = re.findall(
            r'<li><span class="network__kind">([^<]+?)(?:, in this case)?:</span> (.*?)\. <span',
            fragment,
        )
        links_list = fragment.split('id="network-links"')[1].split("</ul>")[0]
        sentences = re.findall(r"<li>([^<]+\.)</li>", links_list)
        _, root = _svg(client, setup["case"].id)
        nodes = [
            g.find(f"{SVG}title").text
            for g in root.iter(f"{SVG}g")
            if (g.get("class") or "").startswith("network-node ")
        ]
        links = [
            g.find(f"{SVG}title").text
            for g in root.iter(f"{SVG}g")
            if (g.get("class") or "").startswith("network-link ")
        ]
        assert len(nodes) == len(listed) > 0
        for kind, label in listed:
            plain = label.replace("&#39;", "'").replace("&amp;", "&")
            assert any(n.startswith(f"{plain}: {kind}.") for n in nodes), label
        assert links and sorted(links) == sorted(s.replace("&#39;", "'") for s in sentences)


def test_every_label_is_escaped(client, signed_in, setup, make_person, relate) -> None:  # noqa: ANN001
    from marac.models import Person

    bryn = db.session.scalar(sa.select(Person).where(Person.given_name == "Bryn"))
    bryn.given_name = '<script>alert("x")</script> & "Bryn"'
    db.session.commit()
    signed_in(setup["rep"])
    text, root = _svg(client, setup["case"].id)  # parses: nothing broke the markup
    assert "<script>" not in text
    assert escape('<script>alert("x")</script>') in text
    page = _text(client.get(f"/cases/{setup['case'].id}"))
    assert "<script>alert" not in page


def test_fragment_page_and_not_found(client, signed_in, setup) -> None:  # noqa: ANN001
    signed_in(setup["rep"])
    case_id = setup["case"].id
    fragment = _text(client.get(f"/cases/{case_id}/network", headers={"HX-Request": "true"}))
    assert fragment.lstrip().startswith('<section id="network"') and "<html" not in fragment
    page = client.get(f"/cases/{case_id}/network")
    assert "<html" in _text(page) and page.headers["Cache-Control"] == "no-store"
    for path in ("network", "network.svg"):
        assert client.get(f"/cases/{setup['hidden'].id}/{path}").status_code == 404
        assert client.get(f"/cases/999999/{path}").status_code == 404


def test_viewing_the_network_is_audited(client, signed_in, setup) -> None:  # noqa: ANN001
    signed_in(setup["rep"])
    client.get(f"/cases/{setup['case'].id}/network")
    client.get(f"/cases/{setup['case'].id}/network.svg")
    entries = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "case.network_view")
    ).all()
    assert len(entries) == 2 and {e.object_id for e in entries} == {setup["case"].id}


def test_case_page_queries_do_not_grow_with_the_database(
    client, signed_in, setup, make_person, make_case, relate
) -> None:  # noqa: ANN001
    signed_in(setup["rep"])
    with count_queries() as before:
        assert client.get(f"/cases/{setup['case'].id}").status_code == 200
    area = setup["area"]
    for _ in range(30):
        victim, man = make_person(area), make_person(area)
        relate(man, victim, RelationshipKind.PARTNER)
        make_case(area, victim, (man,), status=CaseStatus.HEARD)
    with count_queries() as after:
        assert client.get(f"/cases/{setup['case'].id}").status_code == 200
    assert after.count == before.count, (before.count, after.count)


def test_serial_perpetrator_scan_is_for_the_coordinator_and_chair(app, setup) -> None:  # noqa: ANN001
    client = app.test_client()
    login(client, setup["coordinator"].username)
    page = _text(client.get("/network/serial-perpetrators"))
    assert "Bryn Cotter" in page and setup["hidden"].reference in page
    assert "1 person" in page
    assert db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "network.serial_scan")
    )
    rep = app.test_client()
    login(rep, setup["rep"].username)
    assert rep.get("/network/serial-perpetrators").status_code == 403


def test_the_picture_does_not_hint_at_hidden_people(
    app, make_area, make_agency, make_user, make_person, make_case, relate
) -> None:  # noqa: ANN001
    """A child exposed to him through an adult the viewer may not see is anonymised, with no
    link drawn, and placed by what is shown: nothing tells that someone stands between them."""
    from marac import graph
    from marac.present_network import NodeKind, present_network
    from marac.viewer import links_for_case, viewer_for

    area = make_area()
    rep = make_user(Role.AGENCY_REP, make_agency(area, AgencyKind.POLICE))
    victim, man = make_person(area, given="Vera"), make_person(area, given="Moss")
    housemate = make_person(area, given="Hugo")
    child = make_person(area, given="Kim", dob=date(2019, 1, 1))
    relate(man, victim, RelationshipKind.PARTNER)
    relate(man, housemate, RelationshipKind.HOUSEHOLD_MEMBER)
    relate(housemate, child, RelationshipKind.PARENT)
    case = make_case(area, victim, (man,), status=CaseStatus.HEARD)
    viewer = viewer_for(rep)
    links = links_for_case(db.session, viewer, case)
    nb = graph.build_neighbourhood(db.session, today=date(2026, 11, 24), case_id=case.id)
    assert nb.distance[child.id] == 2
    network = present_network(db.session, viewer, links, nb, case.reference)
    labels = {node.label: node for node in network.nodes}
    assert "Hugo" not in " ".join(labels) and labels["A child"].kind is NodeKind.ANONYMISED
    # Not on a third row, as its distance would put it: on the first row after the case's.
    assert labels["A child"].layer == 1
    assert not [link for link in network.links if "A child" in link.sentence]
