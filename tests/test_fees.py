"""Fees are the partner's to set: a creditor sees them and never edits them; a step moved to
another channel takes that channel's fee. The monthly statement navigates and always offers CSV."""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal

from connector.clock import today_nl
from connector.collection.fees import channel_fee, settle_fees
from connector.collection.policy import default_policy, parse_policy
from tests.helpers import csrf_token, oauth_connect
from tests.test_web import _operator_session
from tests.test_web_policy import _stored, form_fields

LETTER_FEE = Decimal("14.95")


def _with_channel(policy, index: int, channel: str, fee: Decimal | None = None):
    steps = list(policy.consumer)
    steps[index] = replace(steps[index], channel=channel,
                           fee=steps[index].fee if fee is None else fee)
    return replace(policy, consumer=tuple(steps))


def test_a_creditors_fees_never_count():
    stored = default_policy()
    cheaper = replace(stored, consumer=tuple(replace(s, fee=Decimal("0.01"))
                                             for s in stored.consumer))
    settled = settle_fees(cheaper, stored, may_set_fees=False)
    assert [s.fee for s in settled.consumer] == [s.fee for s in stored.consumer]
    assert settled.consumer[1].fee == LETTER_FEE


def test_a_step_changed_to_another_channel_takes_that_channels_fee():
    stored = default_policy()
    letter_to_email = _with_channel(stored, 1, "email")  # fee left at 14,95
    for may_set in (False, True):
        assert settle_fees(letter_to_email, stored, may_set_fees=may_set).consumer[1].fee == 0
    sms_to_letter = _with_channel(stored, 2, "letter")  # fee left at 0
    assert settle_fees(sms_to_letter, stored, may_set_fees=True).consumer[2].fee == LETTER_FEE
    # an operator who sets a fee with the change keeps it
    custom = _with_channel(stored, 2, "letter", Decimal("9.50"))
    assert settle_fees(custom, stored, may_set_fees=True).consumer[2].fee == Decimal("9.50")
    # a channel the policy does not use yet: the partner's default
    assert channel_fee(stored, "whatsapp") == 0
    assert channel_fee(replace(stored, consumer=stored.consumer[:1], business=stored.business[:1]),
                       "letter") == LETTER_FEE


def test_creditor_sees_the_fee_and_cannot_change_it(services, moneybird_emulator):
    app = services.settings.public_url
    browser, page = oauth_connect(app, moneybird_emulator.server.url,
                                  administrations=[moneybird_emulator.administration_ids()[0]])
    company_id = re.search(r"/companies/([0-9a-f]{32})", page.url).group(1)
    url = f"{app}/companies/{company_id}/policy"
    editor = browser.get(url).text
    assert 'id="consumer-1-fee"' not in editor  # no input for the fee
    assert "(vastgesteld door de incassopartner)" in editor and "€ 14,95" in editor
    data = form_fields(_stored(services, company_id), consumer__1__fee="0,01",
                       consumer__2__channel="letter", consumer__1__delay_days="9")
    done = browser.post(url, data={"csrf_token": csrf_token(editor), "action": "save", **data})
    assert "Beleid opgeslagen" in done.text
    policy = parse_policy(_stored(services, company_id))
    assert policy.consumer[1].delay_days == 9  # the rest of the change was saved
    assert policy.consumer[1].fee == LETTER_FEE  # the fee was not
    assert policy.consumer[2].channel == "letter" and policy.consumer[2].fee == LETTER_FEE


def test_operator_sets_the_fee(services, moneybird_emulator):
    from tests.helpers import connect_direct

    company_id = connect_direct(services, moneybird_emulator)
    browser = _operator_session(services)
    url = f"{services.settings.public_url}/companies/{company_id}/policy"
    editor = browser.get(url).text
    assert 'id="consumer-1-fee"' in editor
    data = form_fields(_stored(services, company_id), consumer__1__fee="12,50")
    browser.post(url, data={"csrf_token": csrf_token(editor), "action": "save", **data})
    assert parse_policy(_stored(services, company_id)).consumer[1].fee == Decimal("12.50")


def test_statement_navigates_months_offers_csv_and_shows_running_costs(services,
                                                                       moneybird_emulator):
    from tests.helpers import connect_direct

    company_id = connect_direct(services, moneybird_emulator)
    browser = _operator_session(services)
    base = f"{services.settings.public_url}/companies/{company_id}/statement"
    page = browser.get(f"{base}/2026-01").text
    assert f'href="/companies/{company_id}/statement/2025-12"' in page
    assert f'href="/companies/{company_id}/statement/2026-02"' in page
    assert "format=csv" in page  # even a month without costs offers its CSV
    assert "Lopende kosten deze maand" in page
    csv = browser.get(f"{base}/2026-01", params={"format": "csv"})
    assert csv.status_code == 200 and "totaal" in csv.text
    this_month = today_nl().strftime("%Y-%m")
    assert f'href="/companies/{company_id}/statement/{this_month}"' in page
