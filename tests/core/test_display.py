"""The display layer: enum labels, counts with plurals, sizes, provider sentences (plain functions)."""

import pytest

from webapp.core import display


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("PAYNOW_ECOCASH", "Paynow EcoCash"),
        ("PAYNOW_ONEMONEY", "Paynow OneMoney"),
        ("POS_TERMINAL", "POS terminal"),
        ("Pos Terminal", "POS terminal"),  # an enum someone title-cased
        ("Ai Credits", "AI credits"),
        ("Harare Retail Group", "Harare Retail Group"),  # free text is left as written
        ("till at the front", "Till at the front"),
        ("ai_credits", "AI credits"),
        ("AI_CREDITS", "AI credits"),
        ("storage_mb", "Storage (MB)"),
        ("storage (MB)", "Storage (MB)"),
        ("AI credits per period", "AI credits per period"),
        ("PAST_DUE", "Past due"),
        ("PAID", "Paid"),
        ("invoice_id", "Invoice ID"),
        ("google_drive", "Google drive"),
        ("TIKTOK", "TikTok"),
        ("", ""),
        (None, ""),
    ],
)
def test_label_turns_stored_values_into_words(raw, shown):
    assert display.label(raw) == shown


def test_sentence_raises_only_the_first_letter():
    assert display.sentence("storage (MB)") == "Storage (MB)"
    assert display.sentence("AI credits per period") == "AI credits per period"
    assert display.sentence("") == ""


@pytest.mark.parametrize(
    ("n", "word", "shown"),
    [
        (0, "run", "0 runs"),
        (1, "run", "1 run"),
        (2, "run", "2 runs"),
        (1204, "event", "1,204 events"),
        (1, "entry", "1 entry"),
        (3, "entry", "3 entries"),
        (2, "box", "2 boxes"),
        (None, "post", "0 posts"),
    ],
)
def test_plural_counts(n, word, shown):
    assert display.plural(n, word) == shown


def test_plural_takes_an_explicit_plural():
    assert display.plural(2, "child", "children") == "2 children"


@pytest.mark.parametrize(
    ("n_bytes", "shown"),
    [
        (0, "0 B"),
        (None, "0 B"),
        (512, "512 B"),
        (1023, "1,023 B"),
        (1024, "1 KB"),
        (1536, "1.5 KB"),
        (10 * 1024 * 1024, "10 MB"),
        (int(2.25 * 1024 * 1024), "2.2 MB"),
        (200 * 1024**3, "200 GB"),
    ],
)
def test_size_in_binary_units(n_bytes, shown):
    assert display.size(n_bytes) == shown


def test_mb_size_reads_plan_limits_in_the_same_units():
    assert display.mb_size(204800) == "200 GB"
    assert f"{display.size(0)} of {display.mb_size(204800)}" == "0 B of 200 GB"


def test_count_and_words():
    assert display.count(12285) == "12,285"
    assert display.count(None) == "0"
    assert display.join_words(["Owner"]) == "Owner"
    assert display.join_words(["Owner", "Admin", "Billing"]) == "Owner, Admin and Billing"
    assert display.article("Admin") == "an Admin" and display.article("Member") == "a Member"


def test_provider_errors_become_sentences_without_technical_words():
    sentence = display.provider_sentence("paynow", "timeout", payment=True)
    assert sentence == "Paynow did not answer in time; nothing was charged. Try again in a minute."
    for kind in ("timeout", "network", "rate_limited", "server", "client", "something new"):
        text = display.provider_sentence("stripe", kind, payment=True)
        assert text.startswith(("Stripe", "We could not reach Stripe")) and text.endswith(".")
        assert "Timeout" not in text and "Error" not in text and "(" not in text


class _Payment:
    def __init__(self, status, provider, error_message):
        self.status, self.provider, self.error_message = status, provider, error_message


def test_payer_message_never_shows_a_bare_code():
    assert display.payer_message(_Payment("FAILED", "paynow", "cancelled")).startswith("The payment was cancelled")
    assert "amount other than" in display.payer_message(_Payment("FAILED", "paynow", "amount mismatch"))
    timed_out = display.provider_sentence("paynow", "timeout", payment=True)
    assert display.payer_message(_Payment("FAILED", "paynow", timed_out)) == timed_out
    assert (
        display.payer_message(_Payment("FAILED", "stripe", None))
        == "The payment did not go through; nothing was charged."
    )
