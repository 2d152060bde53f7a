"""The name given with a request against the name on record: spellings agree, other people do not."""

from __future__ import annotations

import pytest

from cases.name_check import compare_names, name_parts

SAME_PERSON = [
    # Arabic spelling variants: tashkeel, shadda, taa marbuta/haa, alef maqsura/yaa, hamza forms, tatweel.
    ("مُحمّد عبدالله العتيبي", "محمد عبد الله العتيبي"),
    ("نورة عبدالله", "نوره عبد الله"),
    ("مصطفى أحمد", "مصطفي احمد"),
    ("عائشة سعد", "عايشه سعد"),
    ("إبراهيم آل سعود", "ابراهيم السعود"),
    ("فهـــد القحطاني", "فهد القحطاني"),
    ("عبدالرحمن خالد", "عبد الرحمان خالد"),
    # Connectors and family articles.
    ("عائشة بنت سعد آل سعود", "عايشه سعد السعود"),
    ("محمد بن عبدالله العتيبي", "محمد عبدالله العتيبي"),
    # A missing middle name, a missing family name, only the first name.
    ("محمد العتيبي", "محمد عبدالله سعد العتيبي"),
    ("نورة عبدالله", "نورة عبدالله القحطاني"),
    ("نورة", "نورة عبدالله القحطاني"),
    # Latin: case, spaces, transliteration variants, al-/bin/ibn.
    ("MOHAMMED  AL-OTAIBI", "mohammed al otaibi"),
    ("Mohammed Al-Otaibi", "Muhammad Abdullah Alotaibi"),
    ("Mohamed bin Abdullah", "Muhammad Abdallah"),
    ("Yousef Ali", "Yusuf Ali"),
    ("Khaled ibn Saleh", "Khalid Saleh"),
    ("Fatimah Ahmad", "Fatima Ahmed"),
    ("Abd al-Rahman Khalid", "Abdulrahman Khaled"),
    ("Sa'ad Alghamdi", "Saad Al-Ghamdi"),
    # The other script.
    ("Mohammed Alotaibi", "محمد العتيبي"),
    ("Abdulaziz Al Saud", "عبدالعزيز آل سعود"),
    ("نورة عبدالله", "Noura Abdullah"),
]

OTHER_PERSON = [
    # A different first name, the rest the same.
    ("أحمد عبدالله العتيبي", "محمد عبدالله العتيبي"),
    ("محمود العتيبي", "محمد العتيبي"),
    ("سلمان الشهري", "سلطان الشهري"),
    ("Sara Abdullah", "Noura Abdullah"),
    ("Mahmoud Alotaibi", "Mohammed Alotaibi"),
    # The same first name in another family.
    ("فاطمة علي القحطاني", "فاطمة علي الشهري"),
    ("Fatima Ali Alqahtani", "Fatima Ali Alshehri"),
    # Nobody alike.
    ("Sara Ahmed", "نورة عبدالله"),
    ("خالد", "نورة عبدالله"),
]


@pytest.mark.parametrize(("given", "known"), SAME_PERSON)
def test_the_same_person_written_another_way_matches(given: str, known: str) -> None:
    assert compare_names(given, known).matches, name_parts(given)
    # The comparison does not depend on which name is on record.
    assert compare_names(known, given).matches


@pytest.mark.parametrize(("given", "known"), OTHER_PERSON)
def test_another_persons_name_does_not_match(given: str, known: str) -> None:
    assert not compare_names(given, known).matches
    assert not compare_names(known, given).matches


def test_a_typing_slip_is_left_for_a_person_to_settle() -> None:
    # The edit a slip makes is the edit that separates names (محمد / محمود): not forgiven by rule.
    assert not compare_names("Mohmmed Alotaibi", "Mohammed Alotaibi").matches


def test_similarity_is_the_share_of_parts_in_common() -> None:
    assert compare_names("محمد عبدالله العتيبي", "مُحمّد عبد الله العتيبي").similarity == 1.0
    assert compare_names("محمد العتيبي", "محمد عبدالله العتيبي").similarity == pytest.approx(2 / 3)
    assert compare_names("أحمد عبدالله العتيبي", "محمد عبدالله العتيبي").similarity == pytest.approx(2 / 3)
    assert compare_names("Sara Ahmed", "Noura Abdullah").similarity == 0.0


def test_parts_are_folded_joined_and_stripped() -> None:
    assert name_parts("عبد الله بن  مُحمّد آل سعـــود") == ["عبدالله", "محمد", "سعود"]
    assert name_parts("Abdul Aziz bin Fahd AL-SAUD") == ["abdulaziz", "fahd", "saud"]
    # A short word is not mistaken for the article: "آلاء" (Alaa) keeps its first letters.
    assert name_parts("آلاء") == ["الاء"]


def test_a_name_with_nothing_to_compare_is_not_held_against_anyone() -> None:
    assert compare_names("", "نورة عبدالله").matches
    assert compare_names("بن آل", "نورة عبدالله").matches
