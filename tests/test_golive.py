"""The go-live summary: projected from the plan the way the engine plans, fees from the policy."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from connector.collection.policy import default_policy
from connector.reports import costline, golive

TODAY = date(2026, 11, 27)  # a Friday


def _case(case_id, debtor, *, next_step=0, opened=TODAY, last=None, due=date(2026, 10, 1),
          amount="100.00", variant="consumer"):
    return golive.PlannedCase(case_id, debtor, variant, next_step, opened, last, due,
                              Decimal(amount))


def test_summary_counts_cases_todays_messages_and_the_letters_with_their_cost():
    cases = [_case("a", "d1"), _case("b", "d1"),  # one debtor, two invoices: one letter
             _case("c", "d2", amount="50.00"),
             # already had its stamp on 25 November: its letter is due 2 December
             _case("d", "d3", next_step=1, opened=date(2026, 11, 25), last=date(2026, 11, 25))]
    summary = golive.summarise(cases, default_policy(), TODAY)
    assert (summary.cases, summary.amount, summary.left_out) == (4, Decimal("350.00"), 0)
    assert summary.today_messages == 2  # the stamps for d1 and d2 go out today
    stamp, letter, sms, call = summary.steps
    assert (stamp.name, stamp.messages, stamp.first_day) == (
        "Laatste herinnering met incassostempel", 2, TODAY)
    assert (letter.channel, letter.messages, letter.fee) == ("letter", 3, Decimal("14.95"))
    assert letter.first_day == date(2026, 12, 2)
    assert letter.cost == Decimal("44.85") == summary.max_cost
    assert (sms.first_day, call.first_day) == (date(2026, 12, 7), date(2026, 12, 11))
    assert summary.paid_steps == (letter,)


def test_backlog_limits_leave_old_invoices_and_excluded_debtors_out():
    cases = [_case("old", "d1", due=date(2026, 5, 1)),  # 210 days overdue
             _case("edge", "d2", due=date(2026, 8, 29)),  # exactly 90 days
             _case("new", "d3", due=date(2026, 10, 1)),
             _case("excluded", "d4")]
    limits = golive.BacklogLimits(90, frozenset({"d4"}))
    assert [golive.left_out(c, limits, TODAY) for c in cases] == [True, True, False, True]
    summary = golive.summarise(cases, default_policy(), TODAY, limits)
    assert (summary.cases, summary.left_out, summary.today_messages) == (1, 3, 1)
    assert summary.max_cost == Decimal("14.95")


def test_nothing_to_send_costs_nothing():
    summary = golive.summarise([], default_policy(), TODAY)
    assert (summary.cases, summary.today_messages, summary.max_cost) == (0, 0, Decimal("0"))
    assert summary.paid_steps == ()


def test_the_start_pages_cost_line_follows_the_policy():
    steps = costline.timeline(default_policy())
    assert [(s.day, s.channel, s.fee) for s in steps] == [
        (0, "stamp", Decimal("0")), (7, "letter", Decimal("14.95")),
        (12, "sms", Decimal("0")), (16, "call", Decimal("0"))]
