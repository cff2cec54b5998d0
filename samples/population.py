"""The city's population, made from a seed: taxpayers (宛名), employers (特別徴収義務者) and corporations (法人).

The sample generator draws the people and companies on its forms from here, and legacy_sim seeds its 宛名 and
法人 tables from the same seed, so a generated form names someone the legacy system knows. A few draws give a
person or company the system has never heard of, and the population holds homonyms (same カナ氏名 and 生年月日,
another person): both must go back to people, never be guessed.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from faker import Faker

from ocr.checkdigits import corporate_number_check_digit, my_number_check_digit
from samples.addresses import real_place

POPULATION_SEED = 20250101
PEOPLE = 3000
EMPLOYERS = 400
CORPORATIONS = 400
HOMONYM_SHARE = 0.01  # of the people, each given a homonym (another person, same カナ氏名 and 生年月日)
UNKNOWN_SHARE = 0.03  # of the draws, someone the legacy system does not know

WARDS = ("中央区", "花見川区", "稲毛区", "若葉区", "緑区", "美浜区")
# Surnames written with a variant character that a name register keeps (forms.md: 髙, 﨑, 邊).
RARE_SURNAMES = [("髙橋", "タカハシ"), ("髙木", "タカギ"), ("山﨑", "ヤマザキ"), ("宮﨑", "ミヤザキ"),
                 ("渡邊", "ワタナベ"), ("田邊", "タナベ"), ("濵田", "ハマダ")]
RARE_SURNAME_SHARE = 0.05
BUSINESS_WORDS = (("建設", "ケンセツ"), ("商事", "ショウジ"), ("工業", "コウギョウ"), ("運輸", "ウンユ"),
                  ("電気", "デンキ"), ("食品", "ショクヒン"), ("不動産", "フドウサン"), ("印刷", "インサツ"),
                  ("製作所", "セイサクショ"), ("興業", "コウギョウ"), ("物産", "ブッサン"), ("技研", "ギケン"),
                  ("設備", "セツビ"), ("産業", "サンギョウ"))
LEGAL_FORMS = ("株式会社", "有限会社", "合同会社")


@dataclass(frozen=True)
class Person:
    atena_no: str  # 宛名番号, the city's own id; "" for someone the system does not know
    kana: str  # 「スズキ タクマ」 (全角, one space)
    family_kanji: str
    given_kanji: str
    birth: date
    address: str
    my_number: str

    @property
    def name(self) -> str:
        return self.family_kanji + self.given_kanji


@dataclass(frozen=True)
class Employer:
    shitei_no: str  # 特別徴収義務者指定番号 (8 digits, the city's own)
    corporate_number: str
    name: str
    address: str


@dataclass(frozen=True)
class Corporation:
    kanri_no: str  # 法人管理番号, the city's own id; "" when unknown to the system
    corporate_number: str
    name: str
    kana: str
    address: str


@dataclass(frozen=True)
class Population:
    seed: int
    people: tuple[Person, ...]
    employers: tuple[Employer, ...]
    corporations: tuple[Corporation, ...]


def make_my_number(rng: random.Random) -> str:
    base = "".join(str(rng.randrange(10)) for _ in range(11))
    return base + str(my_number_check_digit(base))


def make_corporate_number(rng: random.Random) -> str:
    base = "".join(str(rng.randrange(10)) for _ in range(12))
    return str(corporate_number_check_digit(base)) + base


def surname(rng: random.Random, faker: Faker) -> tuple[str, str]:
    """A surname (kanji, kana), now and then one written with a variant character."""
    if rng.random() < RARE_SURNAME_SHARE:
        return rng.choice(RARE_SURNAMES)
    kanji, kana, _ = faker.last_name_pair()
    return kanji, kana


def _birth(rng: random.Random) -> date:
    start, end = date(1940, 1, 1), date(2009, 12, 31)
    return start + timedelta(days=rng.randrange((end - start).days + 1))


def _city_address(rng: random.Random, faker: Faker) -> str:
    ward = rng.choice(WARDS)
    town = real_place(faker.town(), prefecture="千葉県", city_prefix=f"千葉市{ward}")  # a real town of the ward
    return f"{town}{rng.randint(1, 5)}丁目{rng.randint(1, 30)}番{rng.randint(1, 20)}号"


def _new_person(rng: random.Random, faker: Faker, atena_no: str, birth: date | None = None,
                kana_family: tuple[str, str] | None = None) -> Person:
    family_kanji, family_kana = kana_family or surname(rng, faker)
    given_kanji, given_kana, _ = faker.first_name_pair()
    return Person(atena_no=atena_no, kana=f"{family_kana} {given_kana}", family_kanji=family_kanji,
                  given_kanji=given_kanji, birth=birth or _birth(rng), address=_city_address(rng, faker),
                  my_number=make_my_number(rng))


def _homonym_of(person: Person, rng: random.Random, faker: Faker, atena_no: str) -> Person:
    """Another person of the same name (同姓同名) and 生年月日, living elsewhere with another 個人番号."""
    other = _new_person(rng, faker, atena_no, birth=person.birth)
    rng.random()  # kept so that the population a seed gives stays the same
    return Person(atena_no=atena_no, kana=person.kana, family_kanji=person.family_kanji,
                  given_kanji=person.given_kanji, birth=person.birth, address=other.address,
                  my_number=other.my_number)


def _company_name(rng: random.Random, faker: Faker) -> tuple[str, str]:
    family_kanji, family_kana, _ = faker.last_name_pair()
    word, word_kana = rng.choice(BUSINESS_WORDS)
    legal = rng.choices(LEGAL_FORMS, weights=[80, 12, 8])[0]
    name = f"{legal}{family_kanji}{word}" if rng.random() < 0.5 else f"{family_kanji}{word}{legal}"
    return name, f"{family_kana}{word_kana}"


@lru_cache(maxsize=4)
def population(seed: int = POPULATION_SEED) -> Population:
    rng = random.Random(f"population:{seed}")
    faker = Faker("ja_JP")
    faker.seed_instance(rng.randrange(2**31))
    people: list[Person] = []
    numbers: set[str] = set()
    while len(people) < PEOPLE:
        person = _new_person(rng, faker, f"{len(people) + 1:010d}")
        if person.my_number in numbers:
            continue
        numbers.add(person.my_number)
        people.append(person)
        if rng.random() < HOMONYM_SHARE and len(people) < PEOPLE:
            people.append(_homonym_of(person, rng, faker, f"{len(people) + 1:010d}"))
    employers = []
    for index in range(EMPLOYERS):
        name, _ = _company_name(rng, faker)
        employers.append(Employer(shitei_no=f"{rng.randrange(10**7):07d}{index % 10}",
                                  corporate_number=make_corporate_number(rng), name=name,
                                  address=_city_address(rng, faker)))
    corporations = []
    for index in range(CORPORATIONS):
        name, kana = _company_name(rng, faker)
        corporations.append(Corporation(kanri_no=f"H{index + 1:07d}", corporate_number=make_corporate_number(rng),
                                         name=name, kana=kana, address=_city_address(rng, faker)))
    return Population(seed, tuple(people), _unique(employers, "shitei_no"), _unique(corporations, "corporate_number"))


def _unique(items: list, key: str) -> tuple:
    seen: set[str] = set()
    kept = []
    for item in items:
        if getattr(item, key) not in seen:
            seen.add(getattr(item, key))
            kept.append(item)
    return tuple(kept)


def homonym_groups(pop: Population) -> list[list[Person]]:
    """Groups of two or more people with the same カナ氏名 and 生年月日."""
    groups: dict[tuple[str, date], list[Person]] = {}
    for person in pop.people:
        groups.setdefault((person.kana, person.birth), []).append(person)
    return [group for group in groups.values() if len(group) > 1]


def draw_person(rng: random.Random, faker: Faker, born_from: date | None = None, born_to: date | None = None,
                *, unknown_share: float = UNKNOWN_SHARE) -> Person:
    """A taxpayer of the population born in the range; now and then a stranger to the legacy system."""
    if rng.random() < unknown_share:
        birth = None
        if born_from and born_to:
            birth = born_from + timedelta(days=rng.randrange((born_to - born_from).days + 1))
        return _new_person(rng, faker, "", birth=birth)
    people = [p for p in population().people
              if (born_from is None or p.birth >= born_from) and (born_to is None or p.birth <= born_to)]
    return rng.choice(people)


def draw_employer(rng: random.Random) -> Employer:
    return rng.choice(population().employers)


def draw_corporation(rng: random.Random, faker: Faker, *, unknown_share: float = UNKNOWN_SHARE) -> Corporation:
    if rng.random() < unknown_share:
        name, kana = _company_name(rng, faker)
        return Corporation("", make_corporate_number(rng), name, kana, _city_address(rng, faker))
    return rng.choice(population().corporations)
