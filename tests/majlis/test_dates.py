from datetime import UTC, date, datetime

from majlis.dates import dual_date, dual_datetime, hijri_date


def test_hijri_is_umm_al_qura() -> None:
    assert hijri_date(date(2026, 11, 24), "ar") == "14 جمادى الآخرة 1448 هـ"
    assert hijri_date(date(2026, 11, 24), "en") == "14 Jumada al-Akhirah 1448 AH"


def test_both_calendars_are_shown_together() -> None:
    assert dual_date(date(2026, 11, 24), "ar") == "الثلاثاء، 24 نوفمبر 2026 م، الموافق 14 جمادى الآخرة 1448 هـ"
    assert dual_date(date(2026, 11, 24), "en") == "Tuesday, November 24, 2026 (14 Jumada al-Akhirah 1448 AH)"


def test_moments_are_shown_in_riyadh_time() -> None:
    # 22:30 UTC on the 24th is already 01:30 on the 25th in Riyadh.
    late = datetime(2026, 11, 24, 22, 30, tzinfo=UTC)
    assert dual_datetime(late, "en").startswith("Wednesday, November 25, 2026")
    assert "1:30" in dual_datetime(late, "en")
