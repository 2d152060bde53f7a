"""The fairness report's equal-priority comparison, live: on the page, in the CSV and in the XLSX, for managers
and auditors; an auditor sees no national ID, phone number or request's tracking number anywhere in it."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from cases.identity import luhn_check_digit
from majlis.clock import FrozenClock
from majlis.db import transaction
from priority import service as triage
from tests.factories import Client, make_staff, sign_in
from tests.priority.test_triage import desk, new_case, ready

Sessions = async_sessionmaker[AsyncSession]

WOMEN, MEN = 6, 6


def national_id(n: int) -> str:
    body = f"1{n:08d}"
    return body + luhn_check_digit(body)


def phone(n: int) -> str:
    return f"+96650{n:07d}"


async def arranged(sessions: Sessions, clock: FrozenClock) -> list[str]:
    """Women waiting about 11 days and men about 1 day, all normal urgency in one category; one moved up by hand."""
    actor = await desk(sessions, clock)
    numbers = []
    for n in range(WOMEN + MEN):
        # An hour apart, as requests come (the same instant for all would tie every wait).
        clock.advance(timedelta(days=10) if n == WOMEN else timedelta(hours=1))
        numbers.append(
            await new_case(
                sessions,
                clock,
                applicant_national_id=national_id(n + 10),
                applicant_phone=phone(n + 10),
                applicant_gender="female" if n < WOMEN else "male",
                channel="whatsapp" if n % 2 else "portal",
            )
        )
    for number in numbers:
        await ready(sessions, clock, actor, number)
    async with transaction(sessions) as session:
        await triage.move_up(
            session=session,
            clock=clock,
            tracking_number=numbers[-1],
            actor_id=actor,
            points=300,
            change_reason="legal_deadline",
            change_text="مهلة استئناف تنتهي قريبا",
        )
    clock.advance(timedelta(days=1))
    return numbers


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


async def test_a_gap_at_equal_priority_is_flagged_on_the_page_csv_and_workbook(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await arranged(sessions, clock)
    # Waiting for the audit desk: in the waiting times as not classified yet, in no equal-priority cell.
    await new_case(sessions, clock, applicant_national_id=national_id(99), applicant_phone=phone(99))
    await make_staff(sessions, clock, Role.MANAGER, "manager")
    await sign_in(client, "manager")

    html = await (await client.get("/reports/fairness")).text()
    table = html[html.index('<table id="equal-wait">') :]
    table = table[: table.index("</table>")]
    # Women and men, each against the other, both flagged; the two channels within the 10 % (or chance).
    assert table.count('class="flagged"') == 2
    assert "أنثى" in table and "ذكر" in table and "واتساب" in table
    assert "فارق يتجاوز 10 ٪ ولا تفسّره المصادفة" in table
    assert "female" not in table and "whatsapp" not in table  # labels, not codes
    # Tested comparisons only in the main table, flagged first; the two groups that have no other group to be set
    # against (one applicant kind, one centre) in a closed box of their own, counted in its summary.
    assert table.index('class="flagged"') < table.index('class="tested"')
    assert "الرياض" not in table and "مواطن" not in table
    untested = html[html.index('<details id="equal-wait-untested">') : html.index("</details>")]
    assert "الفئات التي لم تُختبر: 2" in untested and untested.count('<tr class="untested">') == 2
    assert "الرياض" in untested and "لم يُختبر: لا توجد فئة أخرى للمقارنة" in untested
    assert '<bdi dir="ltr" class="number">11.3</bdi>' in table
    waiting = html[html.index('<table id="waiting">') :]
    assert "لم يُصنَّف بعد" in waiting and "unclassified" not in waiting

    found = rows_of(await (await client.get("/reports/fairness.csv", params={"lang": "en"})).text())
    equal = {(r["key"], r["value"]): r for r in found if r["section"] == "equal_wait"}
    assert set(equal) == {
        ("applicant_kind", "citizen"),
        ("branch", "riyadh"),
        ("channel", "portal"),
        ("channel", "whatsapp"),
        ("gender", "female"),
        ("gender", "male"),
    }
    women = equal[("gender", "female")]
    assert (women["band"], women["category"], women["count"], women["rest_count"]) == ("normal", "general", "6", "6")
    assert (women["median_days"], women["rest_median_days"]) == ("11.3", "1.1")
    assert 9 < float(women["gap"]) < 11
    assert float(women["p_value"]) < 0.05 and float(women["ci_low_days"]) > 0
    # Two tests in all, gender's and channel's (each one test for both of its groups): q is at most twice p.
    assert float(women["p_value"]) <= float(women["q_value"]) <= 2 * float(women["p_value"])
    assert women["outcome"] == "flagged" and equal[("gender", "male")]["outcome"] == "flagged"
    assert equal[("applicant_kind", "citizen")]["outcome"] == "no_other_group"
    assert equal[("channel", "portal")]["outcome"] in {"within", "flagged"}
    # The sections that were there before keep their columns.
    assert any(r["section"] == "waiting" and r["key"] == "gender" and r["count"] == "6" for r in found)

    response = await client.get("/reports/fairness.xlsx", params={"lang": "ar"})
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = zipfile.ZipFile(io.BytesIO(await response.read()))
    workbook = book.read("xl/workbook.xml").decode()
    for sheet in ("الأولوية المتساوية", "المقدَّمة على غيرها"):
        assert f'name="{sheet}"' in workbook
    assert "rightToLeft" in book.read("xl/worksheets/sheet1.xml").decode()
    strings = book.read("xl/sharedStrings.xml").decode()
    for text in ("أنثى", "القيمة الاحتمالية (اختبار التبديل)", "فارق يتجاوز 10 ٪ ولا تفسّره المصادفة"):
        assert f">{text}<" in strings
    for text in ("القيمة المعدَّلة q (بحساب كل الاختبارات، طريقة بنجاميني وهوخبرغ)",):
        assert f">{text}<" in strings
    english = zipfile.ZipFile(io.BytesIO(await (await client.get("/reports/fairness.xlsx?lang=en")).read()))
    assert "rightToLeft" not in english.read("xl/worksheets/sheet1.xml").decode()
    assert ">Gap over 10 % and more than chance<" in english.read("xl/sharedStrings.xml").decode()


async def test_an_auditor_reads_the_report_with_no_personal_data(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    numbers = await arranged(sessions, clock)
    await make_staff(sessions, clock, Role.AUDITOR, "reader")
    await sign_in(client, "reader")
    bodies = []
    for path in ("/reports/fairness", "/reports/fairness.csv"):
        response = await client.get(path)
        assert response.status == 200
        bodies.append(await response.text())
    xlsx = zipfile.ZipFile(io.BytesIO(await (await client.get("/reports/fairness.xlsx")).read()))
    bodies += [xlsx.read(name).decode() for name in xlsx.namelist() if name.endswith(".xml")]
    everything = "\n".join(bodies)
    assert 'id="equal-wait"' in everything and "غير معروض" in everything  # the jump is counted, not named
    for n in range(WOMEN + MEN):
        assert national_id(n + 10) not in everything
        assert phone(n + 10)[4:] not in everything  # nor the phone in any form
    assert not any(number in everything for number in numbers)
    assert "مهلة استئناف" not in everything
