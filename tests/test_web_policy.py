"""The policy editor: saving, every refusal changing nothing, re-planning, reset, isolation."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from connector.clock import today_nl
from connector.collection.cases import settings_for
from connector.collection.engine import _sendable, run_company
from connector.collection.policy import Step, default_policy, parse_policy, policy_to_json
from connector.models import Case, Delivery, DeliveryCase, Event
from connector.sync import sync_company
from connector.web.settings_forms import policy_form_data
from tests.helpers import connect_direct, csrf_token, oauth_connect
from tests.test_web import _operator_session


def form_fields(policy_json: dict, **changes: str) -> dict[str, str]:
    """The stored policy as the editor posts it, with some fields changed (None removes)."""
    data = policy_form_data(policy_json)
    out = {"start_after_days": data["start_after_days"], "minimum_amount": data["minimum_amount"]}
    for variant in ("consumer", "business"):
        for i, step in enumerate(data[variant]):
            for key, value in step.items():
                if key == "needs_approval":
                    if value:
                        out[f"{variant}-{i}-{key}"] = "y"
                else:
                    out[f"{variant}-{i}-{key}"] = value
    for key, value in changes.items():
        key = key.replace("__", "-")
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def without_step(policy_json: dict, variant: str, index: int) -> dict:
    data = dict(policy_json)
    data[variant] = [s for i, s in enumerate(policy_json[variant]) if i != index]
    return data


@pytest.fixture
def editor(services, moneybird_emulator):
    company_id = connect_direct(services, moneybird_emulator)
    browser = _operator_session(services)
    url = f"{services.settings.public_url}/companies/{company_id}/policy"
    page = browser.get(url)
    assert page.status_code == 200
    return company_id, browser, url, csrf_token(page.text)


def _stored(services, company_id):
    with services.db.session() as db:
        return settings_for(db, company_id).policy


def _policy_events(services, company_id):
    with services.db.session() as db:
        return list(db.scalars(select(Event).where(Event.company_id == company_id,
                                                   Event.kind == "collection.policy")))


def test_editor_shows_the_policy_with_labels(services, editor):
    _, browser, url, _ = editor
    page = browser.get(url).text
    assert "Stappen voor particulieren" in page and "Stappen voor zakelijke debiteuren" in page
    assert 'for="consumer-1-fee"' in page and 'id="consumer-1-fee"' in page
    assert "Profitletter (post en e-mail)" in page  # Dutch channel labels
    assert 'value="14,95"' in page
    assert "Standaardbeleid herstellen" in page and "Live gaan" in page


def test_saving_a_changed_policy(services, editor):
    company_id, browser, url, token = editor
    before = _stored(services, company_id)
    data = form_fields(before, consumer__1__fee="19,50", consumer__1__delay_days="10",
                       consumer__2__needs_approval="y", minimum_amount="40",
                       start_after_days="21", business__2__name="Sms zakelijk")
    done = browser.post(url, data={"csrf_token": token, "action": "save", **data})
    assert "Beleid opgeslagen" in done.text
    policy = parse_policy(_stored(services, company_id))
    assert str(policy.consumer[1].fee) == "19.50"
    assert policy.consumer[1].delay_days == 10 and policy.consumer[2].needs_approval
    assert str(policy.minimum_amount) == "40.00" and policy.start_after_days == 21
    assert policy.business[2].name == "Sms zakelijk"
    assert policy.consumer[1].template == "profitletter_consumer"  # standard text kept
    [event] = _policy_events(services, company_id)
    assert event.actor == "operator:op@partner.example"


BAD = [
    ({"consumer__1__delay_days": "zeven"}, "Vul een heel aantal dagen in"),
    ({"consumer__1__delay_days": "-3"}, "Vul een heel aantal dagen in"),
    ({"consumer__1__delay_days": "400"}, "Hoogstens 365 dagen"),
    ({"consumer__1__delay_days": "2.5"}, "Vul een heel aantal dagen in"),
    ({"consumer__1__fee": "14,955"}, "hoogstens twee cijfers achter de komma"),
    ({"consumer__1__fee": "-1"}, "Een tarief kan niet negatief zijn"),
    ({"consumer__1__fee": "veel"}, "Vul een tarief in euro&#39;s in"),
    ({"consumer__1__fee": "NaN"}, "Vul een tarief in euro&#39;s in"),
    ({"business__0__channel": "fax"}, "Kies een kanaal uit de lijst"),
    ({"business__0__after": "later"}, "Kies &#39;na de vorige stap&#39;"),
    ({"business__0__template": "../../etc/passwd"}, "Kies een tekst uit de lijst"),
    ({"consumer__0__name": "  "}, "Geef de stap een naam"),
    ({"consumer__2__channel": "handover"}, "kan alleen de laatste stap zijn"),
    ({"minimum_amount": "veel"}, "Vul een minimumbedrag in euro&#39;s in"),
    ({"minimum_amount": "-5"}, "Een minimumbedrag kan niet negatief zijn"),
    ({"start_after_days": ""}, "Vul een heel aantal dagen in"),
]


@pytest.mark.parametrize(("changes", "message"), BAD)
def test_bad_input_is_refused_next_to_the_field_and_changes_nothing(services, editor, changes,
                                                                    message):
    company_id, browser, url, token = editor
    before = _stored(services, company_id)
    data = form_fields(before, **changes)
    refused = browser.post(url, data={"csrf_token": token, "action": "save", **data})
    assert refused.status_code == 200
    assert "Niet opgeslagen" in refused.text
    assert message in refused.text, refused.text[:3000]
    field_id = next(iter(changes)).replace("__", "-")
    assert f'id="{field_id}-error"' in refused.text  # the message stands next to its field
    assert _stored(services, company_id) == before
    assert _policy_events(services, company_id) == []


def test_without_csrf_nothing_is_saved(services, editor):
    company_id, browser, url, _ = editor
    before = _stored(services, company_id)
    data = form_fields(before, consumer__1__fee="1,00")
    assert browser.post(url, data={"action": "save", **data}).status_code == 400
    assert browser.post(f"{url}/reset", data={}).status_code == 400
    assert _stored(services, company_id) == before


def test_add_remove_and_move_up_change_the_form_not_the_policy(services, editor):
    company_id, browser, url, token = editor
    before = _stored(services, company_id)
    added = browser.post(url, data={"csrf_token": token, "action": "add:consumer",
                                    **form_fields(before)})
    assert "Nog niet opgeslagen" in added.text
    assert 'id="consumer-5-name"' in added.text  # six steps now
    # a new step goes before the hand-over, which stays last
    assert 'id="consumer-5-channel"' in added.text
    assert '<option selected value="handover">' in added.text.split('id="consumer-5-channel"')[1][
        :2000]
    moved = browser.post(url, data={"csrf_token": token, "action": "up:business:2",
                                    **form_fields(before)})
    first = moved.text.index('value="Sms-herinnering"')
    assert first < moved.text.index('value="Profitletter"', moved.text.index("business-0-name"))
    removed = browser.post(url, data={"csrf_token": token, "action": "remove:consumer:2",
                                      **form_fields(before)})
    assert 'id="consumer-4-name"' not in removed.text
    assert _stored(services, company_id) == before
    # the draft is saved only with "Opslaan"
    saved = browser.post(url, data={"csrf_token": token, "action": "save",
                                    **form_fields(without_step(before, "consumer", 2))})
    assert "Beleid opgeslagen" in saved.text
    assert [s.channel for s in parse_policy(_stored(services, company_id)).consumer] == [
        "stamp", "letter", "call", "handover"]


def test_the_last_step_cannot_be_removed(services, editor):
    company_id, browser, url, token = editor
    before = _stored(services, company_id)
    one = dict(before, consumer=before["consumer"][:1])
    refused = browser.post(url, data={"csrf_token": token, "action": "remove:consumer:0",
                                      **form_fields(one)})
    assert "minstens één stap" in refused.text
    assert _stored(services, company_id) == before


def test_removing_a_step_stops_its_planned_delivery(services, moneybird_emulator):
    company_id = connect_direct(services, moneybird_emulator)
    sync_company(services, company_id)
    run_company(services, company_id)
    with services.db.session() as db:
        stamp = db.scalars(select(Delivery).where(Delivery.state == "planned",
                                                  Delivery.channel == "stamp")).first()
        assert stamp is not None
        stamp.approved_by = "operator:op@partner.example"  # would go out even in preview
        stamp.due_on = today_nl()
    with services.db.session() as db:
        assert stamp.id in _sendable(db, company_id, today_nl())
    browser = _operator_session(services)
    url = f"{services.settings.public_url}/companies/{company_id}/policy"
    token = csrf_token(browser.get(url).text)
    before = _stored(services, company_id)
    changed = without_step(without_step(before, "consumer", 0), "business", 0)
    saved = browser.post(url, data={"csrf_token": token, "action": "save",
                                    **form_fields(changed)})
    assert "Beleid opgeslagen" in saved.text and "opnieuw gepland" in saved.text
    with services.db.session() as db:
        gone = db.get(Delivery, stamp.id)
        assert gone.state == "skipped" and gone.cases == []
        assert stamp.id not in _sendable(db, company_id, today_nl())
        planned = list(db.scalars(select(Delivery).where(Delivery.company_id == company_id,
                                                         Delivery.state == "planned")))
        assert planned and {d.channel for d in planned} == {"letter"}
        # every case that had the stamp planned has the letter planned now, once
        linked = db.scalar(select(func.count()).select_from(DeliveryCase).join(Delivery).where(
            Delivery.state == "planned"))
        assert linked == len({link.case_id for d in planned for link in d.cases})
    run_company(services, company_id)
    with services.db.session() as db:
        assert db.get(Delivery, stamp.id).state == "skipped"
        assert not db.scalars(select(Event).where(Event.kind == "step.sent")).all()


def test_unchanged_steps_keep_their_plan_and_approval(services, moneybird_emulator):
    company_id = connect_direct(services, moneybird_emulator)
    sync_company(services, company_id)
    run_company(services, company_id)
    with services.db.session() as db:
        stamp = db.scalars(select(Delivery).where(Delivery.state == "planned")).first()
        stamp.approved_by = "creditor"
    browser = _operator_session(services)
    url = f"{services.settings.public_url}/companies/{company_id}/policy"
    token = csrf_token(browser.get(url).text)
    data = form_fields(_stored(services, company_id), consumer__3__fee="5,00")
    assert "Beleid opgeslagen" in browser.post(url, data={"csrf_token": token, "action": "save",
                                                          **data}).text
    with services.db.session() as db:
        kept = db.get(Delivery, stamp.id)
        assert kept.state == "planned" and kept.approved_by == "creditor"


def test_reset_restores_the_default(services, editor):
    company_id, browser, url, token = editor
    data = form_fields(_stored(services, company_id), consumer__1__fee="99,00")
    browser.post(url, data={"csrf_token": token, "action": "save", **data})
    assert _stored(services, company_id) != policy_to_json(default_policy())
    done = browser.post(f"{url}/reset", data={"csrf_token": token})
    assert "Standaardbeleid hersteld" in done.text
    assert _stored(services, company_id) == policy_to_json(default_policy())
    assert len(_policy_events(services, company_id)) == 2


def test_other_creditors_cannot_see_or_change_the_policy(services, moneybird_emulator):
    first, second = moneybird_emulator.administration_ids()[:2]
    other = connect_direct(services, moneybird_emulator, second)
    app = services.settings.public_url
    browser, page = oauth_connect(app, moneybird_emulator.server.url, administrations=[first])
    token = csrf_token(page.text)
    before = _stored(services, other)
    assert browser.get(f"{app}/companies/{other}/policy").status_code == 404
    data = form_fields(before, consumer__1__fee="1,00")
    assert browser.post(f"{app}/companies/{other}/policy",
                        data={"csrf_token": token, "action": "save", **data}).status_code == 404
    assert browser.post(f"{app}/companies/{other}/policy",
                        data={"csrf_token": token, "action": "add:consumer", **data}
                        ).status_code == 404
    assert browser.post(f"{app}/companies/{other}/policy/reset",
                        data={"csrf_token": token}).status_code == 404
    assert _stored(services, other) == before
    assert _policy_events(services, other) == []


def test_progress_follows_the_steps_already_done_not_their_position():
    from connector.collection.actions import progress_map

    old = default_policy().consumer  # stamp, letter, sms, call, handover
    extra = Step("Vriendelijke e-mail", "email", 3, "previous", "email")
    inserted = (extra, *old)
    assert progress_map(old, inserted) == {0: 0, 1: 2, 2: 3, 3: 4, 4: 5, 5: 6}
    removed_first = old[1:]
    # the stamp was done and is gone: the case starts at the letter, not after it
    assert progress_map(old, removed_first)[1] == 0
    assert progress_map(old, removed_first)[2] == 1  # letter done → sms next
    moved = (old[0], old[2], old[1], *old[3:])  # sms before the letter
    assert progress_map(old, moved)[2] == 3  # letter done (now third) → go on after it
    renamed = tuple(Step(f"Nieuw {i}", s.channel, s.delay_days, s.after, s.template)
                    for i, s in enumerate(old))
    assert progress_map(old, renamed) == {i: i for i in range(6)}
    twice = (*old[:3], old[2], *old[3:])  # a second sms
    assert progress_map(twice, old)[4] == 3  # both sms done → the call, not an sms again


def test_inserting_a_step_in_front_does_not_send_a_done_step_again(services, moneybird_emulator):
    company_id = connect_direct(services, moneybird_emulator)
    sync_company(services, company_id)
    run_company(services, company_id)
    with services.db.session() as db:
        case = db.scalars(select(Case).where(Case.company_id == company_id,
                                             Case.variant == "consumer",
                                             Case.state == "active")).first()
        for link in list(db.scalars(select(DeliveryCase).where(DeliveryCase.case_id == case.id))):
            link.delivery.state = "sent"  # the stamp went out
        case.next_step, case.last_step_on = 2, today_nl()  # and the letter too
        case_id = case.id
    browser = _operator_session(services)
    url = f"{services.settings.public_url}/companies/{company_id}/policy"
    token = csrf_token(browser.get(url).text)
    before = _stored(services, company_id)
    first = {"name": "Vriendelijke e-mail", "channel": "email", "delay_days": 0,
             "after": "start", "template": "email", "needs_approval": False, "fee": "0.00"}
    changed = dict(before, consumer=[first, *before["consumer"]])
    saved = browser.post(url, data={"csrf_token": token, "action": "save",
                                    **form_fields(changed)})
    assert "Beleid opgeslagen" in saved.text
    with services.db.session() as db:
        assert db.get(Case, case_id).next_step == 3  # sms next, not the letter again
        planned = db.scalars(select(Delivery).join(DeliveryCase).where(
            DeliveryCase.case_id == case_id, Delivery.state == "planned")).one()
        assert planned.channel == "sms" and planned.step == 3


def test_a_text_in_use_that_is_not_a_file_stays_choosable(services, editor):
    company_id, browser, url, token = editor
    with services.db.session() as db:
        settings = settings_for(db, company_id)
        policy = dict(settings.policy)
        policy["business"] = [dict(policy["business"][0], template="eigen_stempel"),
                              *policy["business"][1:]]
        settings.policy = policy
    page = browser.get(url).text
    assert '<option selected value="eigen_stempel">' in page
    saved = browser.post(url, data={"csrf_token": token, "action": "save",
                                    **form_fields(_stored(services, company_id),
                                                  consumer__1__fee="1,00")})
    assert "Beleid opgeslagen" in saved.text
    assert parse_policy(_stored(services, company_id)).business[0].template == "eigen_stempel"


def test_second_of_two_editors_is_told_the_policy_changed_meanwhile(services, editor):
    company_id, browser, url, token = editor
    opened = re.search(r'name="policy_version" value="(\w+)"', browser.get(url).text).group(1)
    before = _stored(services, company_id)
    first = browser.post(url, data={"csrf_token": token, "action": "save", "policy_version": opened,
                                    **form_fields(before, minimum_amount="40")})
    assert "Beleid opgeslagen" in first.text
    # the second editor opened the same version and saves something else
    second = browser.post(url, data={"csrf_token": token, "action": "save",
                                     "policy_version": opened,
                                     **form_fields(before, start_after_days="30")})
    assert "het beleid is intussen door iemand anders gewijzigd" in second.text
    assert 'value="30"' in second.text  # what was typed is kept
    policy = parse_policy(_stored(services, company_id))
    assert str(policy.minimum_amount) == "40.00"  # the first save stands
    assert policy.start_after_days != 30
    assert len(_policy_events(services, company_id)) == 1
    # told once, a deliberate second save overwrites
    newer = re.search(r'name="policy_version" value="(\w+)"', second.text).group(1)
    third = browser.post(url, data={"csrf_token": token, "action": "save", "policy_version": newer,
                                    **form_fields(before, start_after_days="30")})
    assert "Beleid opgeslagen" in third.text
