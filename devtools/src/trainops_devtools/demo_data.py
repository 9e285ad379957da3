"""The demo programme of the source document, generated deterministically from a seed, and the
figures reporting must show for what was sent.

Pure data and arithmetic: no HTTP here (``trainops_cli.demo`` loads it through the public APIs,
the end-to-end tests reuse :func:`expected_summary` / :func:`expected_cells`).

The programme (UNICEF Kazakhstan, news item of 28 December 2020):

* training 1 — ethical coverage of children's issues in the media and social networks, online
  on 22 and 23 December 2020, for media and bloggers of the eight cities (one session per day,
  all eight cities in each, 10:00 Almaty time = 09:00 in Aktobe and Aktau);
* training 2 — rights of children from migrant families, January 2021, for akimats, NGOs, media
  and bloggers: in person in Almaty, Astana and Shymkent, online for the west (Aktobe, Aktau)
  and for Kostanay, Oskemen and Almaty region;
* training 3 — violence against children and communication strategies, January–February 2021,
  international experts: in person in Almaty region, Aktobe and Aktau (the Aktau day is
  cancelled for quarantine and its participants move online), online in Russian and in Kazakh.

People are generated with Kazakh and Russian names in Cyrillic; each also has the Latin
spelling a passport would show. A few of them are registered again for a later training under
the other spelling, name order, a differently typed phone or an upper-cased e-mail — the
registration service must recognise them as the same participant.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from trainops_shared.events.vocabulary import SECTORS, AgeBand, Language, Sector, Sex

# ----------------------------------------------------------------------------------------------
# Reference values

CITY_ZONES: dict[str, str] = {
    "almaty": "Asia/Almaty",
    "astana": "Asia/Almaty",
    "shymkent": "Asia/Almaty",
    "oskemen": "Asia/Almaty",
    "almaty_region": "Asia/Almaty",
    "aktobe": "Asia/Aqtobe",
    "aktau": "Asia/Aqtau",
    "kostanay": "Asia/Qostanay",
}
CITIES: tuple[str, ...] = tuple(CITY_ZONES)
CITY_NAMES: dict[str, str] = {
    "almaty": "Almaty",
    "astana": "Astana",
    "shymkent": "Shymkent",
    "oskemen": "Oskemen",
    "almaty_region": "Almaty region",
    "aktobe": "Aktobe",
    "aktau": "Aktau",
    "kostanay": "Kostanay",
}
SURVEY_ITEMS: tuple[str, ...] = ("overall", "relevance", "trainer", "knowledge_gain")

CITY_WEIGHTS = {
    "almaty": 20,
    "astana": 16,
    "shymkent": 14,
    "almaty_region": 10,
    "aktobe": 10,
    "kostanay": 10,
    "oskemen": 10,
    "aktau": 10,
}
SECTOR_WEIGHTS: dict[Sector, int] = {
    "media": 30,
    "blogger": 20,
    "ngo": 22,
    "akimat": 20,
    "other": 8,
}
SEX_WEIGHTS: dict[Sex, int] = {"female": 58, "male": 38, "other": 1, "undisclosed": 3}
AGE_WEIGHTS: dict[AgeBand, int] = {
    "18-24": 10,
    "25-34": 35,
    "35-44": 30,
    "45-54": 15,
    "55+": 7,
    "undisclosed": 3,
}

# ----------------------------------------------------------------------------------------------
# Names: (Cyrillic, passport Latin). Kazakh spellings keep ә ғ қ ң ө ұ ү һ і.

KZ_FEMALE = [
    ("Айгерім", "Aigerim"), ("Әсел", "Assel"), ("Гүлнар", "Gulnar"), ("Жанар", "Zhanar"),
    ("Динара", "Dinara"), ("Мадина", "Madina"), ("Салтанат", "Saltanat"), ("Ақерке", "Akerke"),
    ("Аружан", "Aruzhan"), ("Жұлдыз", "Zhuldyz"), ("Балжан", "Balzhan"), ("Назерке", "Nazerke"),
    ("Ләззат", "Lazzat"), ("Гүлмира", "Gulmira"), ("Сәуле", "Saule"), ("Арайлым", "Arailym"),
    ("Айнұр", "Ainur"), ("Меруерт", "Meruert"), ("Камила", "Kamila"), ("Томирис", "Tomiris"),
    ("Ботагөз", "Botagoz"), ("Мөлдір", "Moldir"), ("Жансая", "Zhansaya"), ("Индира", "Indira"),
]  # fmt: skip
KZ_MALE = [
    ("Ержан", "Yerzhan"), ("Нұрлан", "Nurlan"), ("Асқар", "Askar"), ("Дәурен", "Dauren"),
    ("Бауыржан", "Bauyrzhan"), ("Серік", "Serik"), ("Қайрат", "Kairat"), ("Ерлан", "Yerlan"),
    ("Мұрат", "Murat"), ("Арман", "Arman"), ("Жандос", "Zhandos"), ("Тимур", "Timur"),
    ("Алмас", "Almas"), ("Дәулет", "Daulet"), ("Бекзат", "Bekzat"), ("Нұржан", "Nurzhan"),
    ("Ерболат", "Yerbolat"), ("Әділет", "Adilet"), ("Азамат", "Azamat"), ("Ғалым", "Galym"),
]  # fmt: skip
KZ_SURNAMES = [
    ("Сейтов", "Seitov"), ("Ахметов", "Akhmetov"), ("Жұмабаев", "Zhumabayev"),
    ("Омаров", "Omarov"), ("Сәрсенбаев", "Sarsenbayev"), ("Тоқтаров", "Toktarov"),
    ("Нұрпейісов", "Nurpeisov"), ("Бекмұхамбетов", "Bekmukhambetov"), ("Қасымов", "Kassymov"),
    ("Әбдірахманов", "Abdirakhmanov"), ("Есенов", "Yessenov"), ("Мұқанов", "Mukanov"),
    ("Ибраев", "Ibrayev"), ("Тұрсынов", "Tursynov"), ("Серікбаев", "Serikbayev"),
    ("Құдайбергенов", "Kudaibergenov"), ("Байжанов", "Baizhanov"), ("Оспанов", "Ospanov"),
    ("Шәкенов", "Shakenov"), ("Исаев", "Issayev"), ("Жақыпов", "Zhakypov"),
    ("Әлиев", "Aliyev"), ("Смағұлов", "Smagulov"), ("Қалиев", "Kaliyev"),
]  # fmt: skip
RU_FEMALE = [
    ("Елена", "Yelena"), ("Ольга", "Olga"), ("Наталья", "Natalya"), ("Татьяна", "Tatyana"),
    ("Ирина", "Irina"), ("Светлана", "Svetlana"), ("Анна", "Anna"), ("Юлия", "Yuliya"),
    ("Екатерина", "Yekaterina"), ("Мария", "Mariya"), ("Оксана", "Oksana"),
]  # fmt: skip
RU_MALE = [
    ("Александр", "Aleksandr"), ("Сергей", "Sergey"), ("Дмитрий", "Dmitriy"),
    ("Андрей", "Andrey"), ("Алексей", "Aleksey"), ("Виктор", "Viktor"), ("Максим", "Maksim"),
    ("Игорь", "Igor"), ("Владимир", "Vladimir"), ("Николай", "Nikolay"), ("Павел", "Pavel"),
]  # fmt: skip
RU_SURNAMES = [
    ("Иванов", "Ivanov"), ("Петров", "Petrov"), ("Смирнов", "Smirnov"),
    ("Кузнецов", "Kuznetsov"), ("Попов", "Popov"), ("Васильев", "Vasilyev"),
    ("Морозов", "Morozov"), ("Новиков", "Novikov"), ("Фёдоров", "Fedorov"),
    ("Волков", "Volkov"), ("Соколов", "Sokolov"), ("Ким", "Kim"), ("Пак", "Pak"),
    ("Цой", "Tsoy"), ("Шевченко", "Shevchenko"), ("Бондаренко", "Bondarenko"),
]  # fmt: skip
_UNGENDERED_SURNAMES = {"Ким", "Пак", "Цой", "Шевченко", "Бондаренко"}

ORGANISATIONS: dict[str, list[str]] = {
    "media": [
        "Казинформ", "Хабар 24", "Tengrinews", "31 канал", "Egemen Qazaqstan", "Vlast.kz",
        "Orda.kz", "Qazaq radiosy", "Informburo", "Atameken Business",
    ],
    "blogger": ["Instagram", "YouTube", "Telegram", "TikTok", "Facebook"],
    "ngo": [
        "Қамқорлық қоры", "Ассоциация «Дети Казахстана»", "Kazakhstan Child Rights Coalition",
        "Центр поддержки мигрантов", "Бала қорғау орталығы", "Шанырак",
    ],
    "akimat": ["әкімдігі", "акимат"],
    "other": ["университет", "мектеп-лицей", "Red Crescent", "областная библиотека"],
}  # fmt: skip

COMMENTS: dict[str, list[str]] = {
    "kk": [
        "Өте пайдалы тренинг, рахмет!",
        "Қазақстандық кейстер қызықты болды.",
        "Келесі жолы көбірек практикалық жаттығулар болса екен.",
    ],
    "ru": [
        "Очень полезно, спасибо организаторам.",
        "Хотелось бы больше времени на разбор кейсов.",
        "Отличные спикеры, материалы пригодятся в работе.",
    ],
    "en": ["Very useful, thank you.", "More practical exercises next time, please."],
}

# ----------------------------------------------------------------------------------------------
# The plan


@dataclass(frozen=True)
class TrainingSpec:
    key: str
    code: str
    title: dict[str, str]
    target_sectors: list[str]


@dataclass(frozen=True)
class TrainerSpec:
    key: str
    name: str
    home_city: str
    international: bool


@dataclass(frozen=True)
class SessionSpec:
    key: str
    training_key: str
    mode: str
    cities: tuple[str, ...]
    starts_at: str  # wall time in ``timezone``
    ends_at: str
    timezone: str
    language: str
    trainer_keys: tuple[str, ...]
    venue: str | None
    capacity: int
    capacity_increase_to: int | None = None
    cancel_reason: str | None = None
    moved_to: str | None = None  # where its participants are re-registered after cancellation

    def body(
        self, training_id: str, trainer_ids: Mapping[str, str], with_timezone: bool = True
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "training_id": training_id,
            "mode": self.mode,
            "cities": list(self.cities),
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "capacity": self.capacity,
            "language": self.language,
            "trainer_ids": [trainer_ids[key] for key in self.trainer_keys],
        }
        if with_timezone:
            body["timezone"] = self.timezone
        if self.venue:
            body["venue"] = self.venue
        return body

    @property
    def starts_at_utc(self) -> datetime:
        from zoneinfo import ZoneInfo

        local = datetime.fromisoformat(self.starts_at).replace(tzinfo=ZoneInfo(self.timezone))
        return local.astimezone(UTC)


@dataclass(frozen=True)
class Person:
    key: str
    city: str
    sector: Sector
    sex: Sex
    age_band: AgeBand
    language: Language
    name_cyrillic: str  # "Surname Name", as Kazakh lists usually write it
    name_latin: str  # "Name Surname", as in a passport
    email: str | None
    phone: str | None
    organisation: str | None

    def participant(self, variant: str = "canonical") -> dict[str, Any]:
        """The ``participant`` body of a registration, as a coordinator would type it.

        Variants (the same person typed again by another coordinator or on another day):
        ``latin`` (passport spelling and order, no contacts: matched on the name in the city),
        ``phone`` (phone typed ``+7 (7xx) xxx-xx-xx``, Latin name, no e-mail),
        ``email_case`` (e-mail upper-cased, Latin name, no phone).
        """
        name = self.name_cyrillic
        email, phone = self.email, self.phone
        if variant == "latin":
            name, email, phone = self.name_latin, None, None
        elif variant == "phone":
            name, email = self.name_latin, None
            phone = _reformat_phone(self.phone) if self.phone else None
        elif variant == "email_case":
            name, phone = self.name_latin, None
            email = self.email.upper() if self.email else None
        body: dict[str, Any] = {
            "full_name": name,
            "sector": self.sector,
            "sex": self.sex,
            "age_band": self.age_band,
            "city": self.city,
            "language": self.language,
        }
        if email:
            body["email"] = email
        if phone:
            body["phone"] = phone
        if self.organisation:
            body["organisation"] = self.organisation
        return body


@dataclass(frozen=True)
class RegistrationSpec:
    key: str
    person_key: str
    session_key: str
    variant: str = "canonical"
    cancel: bool = False  # cancelled by the coordinator after registration
    phase: int = 0  # registrations of one phase may run concurrently across sessions


@dataclass
class Programme:
    seed: int
    suffix: str
    trainings: list[TrainingSpec]
    trainers: list[TrainerSpec]
    sessions: list[SessionSpec]
    people: list[Person]
    registrations: list[RegistrationSpec]
    people_by_key: dict[str, Person] = field(default_factory=dict)
    sessions_by_key: dict[str, SessionSpec] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.people_by_key = {p.key: p for p in self.people}
        self.sessions_by_key = {s.key: s for s in self.sessions}

    @property
    def duplicate_registrations(self) -> list[RegistrationSpec]:
        return [r for r in self.registrations if r.variant != "canonical"]


def _reformat_phone(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())[-10:]
    return f"+7 ({digits[:3]}) {digits[3:6]}-{digits[6:8]}-{digits[8:]}"


_K = TypeVar("_K", bound=str)


def _pick(rng: random.Random, weights: Mapping[_K, int]) -> _K:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _latin_slug(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isascii() and ch.isalnum())


# ----------------------------------------------------------------------------------------------
# The three trainings, their trainers and sessions

ALL_CITIES = CITIES


def trainings(suffix: str = "") -> list[TrainingSpec]:
    return [
        TrainingSpec(
            "t1",
            f"kz2020-ethical-coverage{suffix}",
            {
                "en": "Ethical coverage of children's issues in the media and social networks",
                "ru": "Этичное освещение проблем детей в СМИ и социальных сетях",
                "kk": "БАҚ пен әлеуметтік желілерде балалар мәселелерін этикалық жариялау",
            },
            ["media", "blogger"],
        ),
        TrainingSpec(
            "t2",
            f"kz2021-migrant-children-rights{suffix}",
            {
                "en": "Rights of children from migrant families",
                "ru": "Права детей из семей мигрантов",
                "kk": "Көшіп-қонушы отбасылардан шыққан балалардың құқықтары",
            },
            ["akimat", "ngo", "media", "blogger"],
        ),
        TrainingSpec(
            "t3",
            f"kz2021-violence-against-children{suffix}",
            {
                "en": "Violence against children: communication strategies and campaigns",
                "ru": "Насилие в отношении детей: коммуникационные стратегии и кампании",
                "kk": "Балаларға қатысты зорлық-зомбылық: коммуникациялық стратегия және науқандар",
            },
            ["akimat", "ngo", "media", "blogger"],
        ),
    ]


TRAINERS: list[TrainerSpec] = [
    TrainerSpec("whitfield", "Sarah Whitfield", "Geneva", True),
    TrainerSpec("bianchi", "Marco Bianchi", "Rome", True),
    TrainerSpec("lindqvist", "Hanna Lindqvist", "Stockholm", True),
    TrainerSpec("yessenova", "Есенова Гүлнар", "almaty", False),
    TrainerSpec("omarov", "Омаров Ержан", "astana", False),
    TrainerSpec("kassymova", "Қасымова Салтанат", "shymkent", False),
    TrainerSpec("kim", "Ким Ольга", "almaty", False),
    TrainerSpec("toktarov", "Тоқтаров Дәурен", "aktobe", False),
]

_ONLINE_CAPACITY = 1000
_RU_ONLINE_T3 = ("almaty", "astana", "shymkent", "oskemen", "kostanay", "aktau")


def _session_plan() -> list[dict[str, Any]]:
    """Sessions without capacities (those follow demand, see :func:`build_programme`)."""
    return [
        # Training 1: online, 22-23 December 2020, all eight cities, 10:00 Almaty time.
        dict(key="s1-day1", training_key="t1", mode="online", cities=ALL_CITIES,
             starts_at="2020-12-22T10:00", ends_at="2020-12-22T13:00", timezone="Asia/Almaty",
             language="ru", trainer_keys=("whitfield", "yessenova"),
             venue="Zoom webinar, Kazakh/Russian interpretation"),
        dict(key="s1-day2", training_key="t1", mode="online", cities=ALL_CITIES,
             starts_at="2020-12-23T10:00", ends_at="2020-12-23T13:00", timezone="Asia/Almaty",
             language="ru", trainer_keys=("whitfield", "yessenova"),
             venue="Zoom webinar, Kazakh/Russian interpretation"),
        # Training 2: January 2021.
        dict(key="s2-almaty", training_key="t2", mode="in_person", cities=("almaty",),
             starts_at="2021-01-12T10:00", ends_at="2021-01-12T16:00", timezone="Asia/Almaty",
             language="ru", trainer_keys=("kassymova", "omarov"),
             venue="Almaty, UN House, conference room"),
        dict(key="s2-astana", training_key="t2", mode="in_person", cities=("astana",),
             starts_at="2021-01-14T10:00", ends_at="2021-01-14T16:00", timezone="Asia/Almaty",
             language="kk", trainer_keys=("omarov",),
             venue="Astana, city akimat, assembly hall"),
        dict(key="s2-shymkent", training_key="t2", mode="in_person", cities=("shymkent",),
             starts_at="2021-01-19T10:00", ends_at="2021-01-19T16:00", timezone="Asia/Almaty",
             language="kk", trainer_keys=("kassymova",),
             venue="Shymkent, regional youth resource centre"),
        dict(key="s2-west", training_key="t2", mode="online", cities=("aktobe", "aktau"),
             starts_at="2021-01-21T10:00", ends_at="2021-01-21T13:00", timezone="Asia/Aqtobe",
             language="ru", trainer_keys=("bianchi", "toktarov"), venue="Zoom webinar"),
        dict(key="s2-north-east", training_key="t2", mode="online",
             cities=("kostanay", "oskemen", "almaty_region"),
             starts_at="2021-01-26T11:00", ends_at="2021-01-26T14:00", timezone="Asia/Almaty",
             language="ru", trainer_keys=("bianchi", "omarov"), venue="Zoom webinar"),
        # Training 3: January-February 2021.
        dict(key="s3-almaty-region", training_key="t3", mode="in_person",
             cities=("almaty_region",), starts_at="2021-01-28T10:00",
             ends_at="2021-01-28T16:00", timezone="Asia/Almaty", language="kk",
             trainer_keys=("kim",), venue="Taldykorgan, regional library"),
        dict(key="s3-aktobe", training_key="t3", mode="in_person", cities=("aktobe",),
             starts_at="2021-02-02T10:00", ends_at="2021-02-02T16:00", timezone="Asia/Aqtobe",
             language="ru", trainer_keys=("toktarov",), venue="Aktobe, regional akimat"),
        dict(key="s3-aktau", training_key="t3", mode="in_person", cities=("aktau",),
             starts_at="2021-02-04T10:00", ends_at="2021-02-04T16:00", timezone="Asia/Aqtau",
             language="ru", trainer_keys=("toktarov",), venue="Aktau, city library",
             cancel_reason="In-person events suspended by the Mangystau region quarantine; "
             "participants moved to the online session",
             moved_to="s3-online-ru"),
        dict(key="s3-online-ru", training_key="t3", mode="online", cities=_RU_ONLINE_T3,
             starts_at="2021-02-09T10:00", ends_at="2021-02-09T13:00", timezone="Asia/Almaty",
             language="ru", trainer_keys=("lindqvist", "kim"), venue="Zoom webinar"),
        dict(key="s3-online-kk", training_key="t3", mode="online", cities=ALL_CITIES,
             starts_at="2021-02-11T10:00", ends_at="2021-02-11T13:00", timezone="Asia/Almaty",
             language="kk", trainer_keys=("lindqvist", "yessenova"), venue="Zoom webinar"),
    ]  # fmt: skip


def _t2_session(person: Person) -> str:
    return {
        "almaty": "s2-almaty",
        "astana": "s2-astana",
        "shymkent": "s2-shymkent",
        "aktobe": "s2-west",
        "aktau": "s2-west",
    }.get(person.city, "s2-north-east")


def _t3_session(person: Person) -> str:
    if person.city == "almaty_region":
        return "s3-almaty-region"
    if person.city == "aktobe":
        return "s3-aktobe"
    if person.city == "aktau":
        return "s3-aktau"
    if person.language == "kk" or person.city not in _RU_ONLINE_T3:
        return "s3-online-kk"
    return "s3-online-ru"


# ----------------------------------------------------------------------------------------------
# People


def make_people(rng: random.Random, count: int) -> list[Person]:
    """``count`` distinct people; no two share a name (in any spelling), e-mail or phone."""
    people: list[Person] = []
    used_names: set[tuple[str, str]] = set()
    used_emails: set[str] = set()
    used_phones: set[str] = set()
    for index in range(count):
        city = _pick(rng, CITY_WEIGHTS)
        sector = _pick(rng, SECTOR_WEIGHTS)
        sex = _pick(rng, SEX_WEIGHTS)
        age_band = _pick(rng, AGE_WEIGHTS)
        kazakh = rng.random() < (0.6 if city in ("kostanay", "oskemen") else 0.75)
        female = sex == "female" or (sex in ("other", "undisclosed") and rng.random() < 0.5)
        for _ in range(1000):
            if kazakh:
                first = rng.choice(KZ_FEMALE if female else KZ_MALE)
                sur = rng.choice(KZ_SURNAMES)
            else:
                first = rng.choice(RU_FEMALE if female else RU_MALE)
                sur = rng.choice(RU_SURNAMES)
            if female and sur[0] not in _UNGENDERED_SURNAMES:
                sur = (sur[0] + "а", sur[1] + "a")
            if (first[0], sur[0]) not in used_names:
                break
        else:  # pragma: no cover - the name lists allow thousands of combinations
            raise RuntimeError("ran out of distinct names; extend the name lists")
        used_names.add((first[0], sur[0]))
        language: Language = ("kk" if rng.random() < 0.65 else "ru") if kazakh else "ru"
        if rng.random() < 0.04:
            language = "en"
        email: str | None = None
        if rng.random() < 0.8:
            domain = rng.choice(["mail.kz", "gmail.com", "inbox.kz", "mail.ru", "yandex.kz"])
            base = f"{_latin_slug(first[1])}.{_latin_slug(sur[1])}"
            email = f"{base}@{domain}"
            n = 1
            while email in used_emails:
                n += 1
                email = f"{base}{n}@{domain}"
            used_emails.add(email)
        phone: str | None = None
        if rng.random() < 0.6:
            while True:
                operator = rng.choice(["701", "702", "705", "707", "747", "771", "775", "778"])
                number = f"{rng.randrange(10**7):07d}"
                phone = f"8 {operator} {number[:3]} {number[3:5]} {number[5:]}"
                if phone not in used_phones:
                    used_phones.add(phone)
                    break
        organisation = _organisation(rng, sector, city)
        people.append(
            Person(
                key=f"p{index + 1:04d}",
                city=city,
                sector=sector,
                sex=sex,
                age_band=age_band,
                language=language,
                name_cyrillic=f"{sur[0]} {first[0]}",
                name_latin=f"{first[1]} {sur[1]}",
                email=email,
                phone=phone,
                organisation=organisation,
            )
        )
    return people


def _organisation(rng: random.Random, sector: str, city: str) -> str | None:
    if rng.random() < 0.15:
        return None
    choice = rng.choice(ORGANISATIONS[sector])
    if sector == "akimat":
        return f"{CITY_NAMES[city]} {choice}"
    if sector == "other":
        return f"{CITY_NAMES[city]}, {choice}"
    return choice


# ----------------------------------------------------------------------------------------------
# The programme


def build_programme(seed: int = 2020, participants: int = 300, suffix: str = "") -> Programme:
    """The whole plan for ``participants`` people, identical for identical arguments.

    Capacities of in-person sessions follow demand (about one in six applicants ends on the
    waiting list); one of them is enlarged afterwards (a bigger hall: the waiting list moves up),
    and a few confirmed people cancel (the first waitlisted move up). Online sessions are not
    limited in practice.
    """
    if participants < 1:
        raise ValueError("participants must be at least 1")
    rng = random.Random(seed)
    people = make_people(rng, participants)
    wanted: dict[str, list[str]] = defaultdict(list)  # session -> person keys, in order
    for person in people:
        chosen: list[str] = []
        if person.sector in ("media", "blogger") and rng.random() < 0.8:
            chosen.append("s1-day1")
            if rng.random() < 0.92:
                chosen.append("s1-day2")
        t2_odds = 0.5 if person.sector in ("akimat", "ngo") else 0.3
        if person.sector == "other":
            t2_odds = 0.2
        if rng.random() < t2_odds:
            chosen.append(_t2_session(person))
        t3_odds = 0.45 if person.sector != "other" else 0.3
        if rng.random() < t3_odds:
            chosen.append(_t3_session(person))
        if not chosen:  # everyone generated takes part in something
            chosen.append(_t3_session(person) if person.sector == "other" else _t2_session(person))
        for session_key in chosen:
            wanted[session_key].append(person.key)

    sessions: list[SessionSpec] = []
    for plan in _session_plan():
        demand = len(wanted[plan["key"]])
        if plan["mode"] == "online":
            capacity = _ONLINE_CAPACITY
        else:
            capacity = max(1, demand - max(1, demand // 6)) if demand >= 2 else 1
        increase = None
        if plan["key"] == "s2-almaty" and demand - capacity >= 1:
            increase = capacity + min(3, demand - capacity)
        sessions.append(SessionSpec(capacity=capacity, capacity_increase_to=increase, **plan))

    registrations = _registrations(rng, people, sessions, wanted)
    return Programme(
        seed=seed,
        suffix=suffix,
        trainings=trainings(suffix),
        trainers=list(TRAINERS),
        sessions=sessions,
        people=people,
        registrations=registrations,
    )


_PHASE = {"t1": 0, "t2": 1, "t3": 2}


def _registrations(
    rng: random.Random,
    people: Sequence[Person],
    sessions: Sequence[SessionSpec],
    wanted: Mapping[str, list[str]],
) -> list[RegistrationSpec]:
    by_key = {p.key: p for p in people}
    seen_people: set[str] = set()
    out: list[RegistrationSpec] = []
    # Sessions in training order: a person's first registration always comes first, so the
    # re-typed variants below are matched against an existing record.
    ordered = sorted(sessions, key=lambda s: (_PHASE[s.training_key], s.key))
    duplicates = 0
    for session in ordered:
        phase = _PHASE[session.training_key]
        keys = wanted.get(session.key, [])
        confirmed_guess = min(session.capacity, len(keys))
        waitlisted = len(keys) > session.capacity
        cancel_budget = 0
        if session.mode == "in_person" and waitlisted and session.cancel_reason is None:
            cancel_budget = 1 if confirmed_guess < 10 else 2
        cancel_positions = set(
            rng.sample(range(confirmed_guess), min(cancel_budget, confirmed_guess))
        )
        for position, person_key in enumerate(keys):
            person = by_key[person_key]
            variant = "canonical"
            # A few people (about 4 % of repeat registrations) are typed again differently.
            if person_key in seen_people and phase > 0 and rng.random() < 0.12:
                options = ["latin"]
                if person.phone:
                    options.append("phone")
                if person.email:
                    options.append("email_case")
                variant = rng.choice(options)
                duplicates += 1
            cancel = position in cancel_positions
            if session.mode == "online" and not cancel and rng.random() < 0.02:
                cancel = True
            out.append(
                RegistrationSpec(
                    key=f"{session.key}/{person_key}",
                    person_key=person_key,
                    session_key=session.key,
                    variant=variant,
                    cancel=cancel,
                    phase=phase,
                )
            )
            seen_people.add(person_key)
    return out


# ----------------------------------------------------------------------------------------------
# Deterministic per-registration decisions (keyed by the registration's plan key, not by the
# order in which answers come back)


def attendance_decision(seed: int, registration_key: str) -> bool | None:
    """``True`` attended, ``False`` recorded absent, ``None`` nothing recorded."""
    rng = random.Random(f"{seed}/attendance/{registration_key}")
    roll = rng.random()
    if roll < 0.88:
        return True
    return False if roll < 0.96 else None


def feedback_answers(
    seed: int, registration_key: str, language: str
) -> tuple[dict[str, int], str | None] | None:
    """The answers this attendee gives, or ``None`` when they do not respond (~15 %)."""
    rng = random.Random(f"{seed}/feedback/{registration_key}")
    if rng.random() >= 0.85:
        return None
    overall = rng.choices([5, 4, 3, 2, 1], weights=[50, 32, 12, 4, 2])[0]
    answers = {"overall": overall}
    for item in SURVEY_ITEMS[1:]:
        answers[item] = max(1, min(5, overall + rng.choice([-1, 0, 0, 0, 1])))
    if rng.random() < 0.7:
        answers["materials"] = max(1, min(5, overall + rng.choice([-1, 0, 0])))
    comment = rng.choice(COMMENTS[language]) if rng.random() < 0.15 else None
    return answers, comment


# ----------------------------------------------------------------------------------------------
# What reporting must show for what was sent


@dataclass(frozen=True)
class Fact:
    """One registration as it finally stands, with what reporting needs of it."""

    participant_id: str
    training: str  # training id (or any label the caller groups by)
    session: str
    session_status: str  # scheduled | cancelled | completed
    starts_at: datetime  # UTC
    mode: str
    status: str  # confirmed | waitlisted | cancelled
    attended: bool
    overall: tuple[int, ...] = ()  # the ``overall`` answers of its feedback responses
    city: str = ""
    sector: str = ""
    sex: str = ""
    age_band: str = ""
    language: str = ""

    @property
    def registered(self) -> bool:
        return self.status == "confirmed" and self.session_status != "cancelled"

    @property
    def counts_attended(self) -> bool:
        return self.registered and self.attended


def mean2(values: Iterable[int]) -> float | None:
    items = list(values)
    return round(sum(items) / len(items), 2) if items else None


def _in_window(fact_start: datetime, start: datetime | None, end: datetime | None) -> bool:
    return (start is None or fact_start >= start) and (end is None or fact_start < end)


@dataclass(frozen=True)
class SessionFact:
    session: str
    training: str
    starts_at: datetime
    status: str


def expected_summary(
    facts: Sequence[Fact],
    sessions: Sequence[SessionFact],
    *,
    training: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> dict[str, Any]:
    """``GET /reports/summary`` as it must read with nothing suppressed (its counts only).

    Counts are of registrations (one person in one session), as every report counts them;
    ``cities_reached`` counts the participants' cities among those who attended.
    """
    chosen = [
        f
        for f in facts
        if (training is None or f.training == training) and _in_window(f.starts_at, start, end)
    ]
    live = [
        s
        for s in sessions
        if (training is None or s.training == training)
        and _in_window(s.starts_at, start, end)
        and s.status != "cancelled"
    ]
    answers = [a for f in chosen for a in f.overall]
    return {
        "sessions_scheduled": len(live),
        "sessions_delivered": sum(1 for s in live if s.status == "completed"),
        "registered": sum(1 for f in chosen if f.registered),
        "attended": sum(1 for f in chosen if f.counts_attended),
        "feedback_responses": len(answers),
        "satisfaction_mean": mean2(answers),
        "cities_reached": len({f.city for f in chosen if f.counts_attended}),
    }


def expected_cells(
    facts: Sequence[Fact],
    by: Sequence[str],
    *,
    training: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> dict[tuple[str, ...], dict[str, Any]]:
    """The raw (unsuppressed) donor cells by ``by``: ``{key: {registered, attended,
    feedback_responses, satisfaction_mean}}`` in registrations; only cells where something
    counts."""
    registered: dict[tuple[str, ...], list[str]] = defaultdict(list)
    attended: dict[tuple[str, ...], list[str]] = defaultdict(list)
    answers: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for f in facts:
        if training is not None and f.training != training:
            continue
        if not _in_window(f.starts_at, start, end):
            continue
        key = tuple(str(getattr(f, "training" if d == "training" else d)) for d in by)
        if f.registered:
            registered[key].append(f.participant_id)
        if f.counts_attended:
            attended[key].append(f.participant_id)
        answers[key].extend(f.overall)
    keys = {k for k in registered if registered[k]} | {k for k in attended if attended[k]}
    keys |= {k for k, v in answers.items() if v}
    return {
        key: {
            "registered": len(registered.get(key, ())),
            "attended": len(attended.get(key, ())),
            "feedback_responses": len(answers.get(key, ())),
            "satisfaction_mean": mean2(answers.get(key, ())),
        }
        for key in sorted(keys)
    }


def describe(programme: Programme) -> str:
    """One paragraph about the generated plan (printed by the demo before loading)."""
    per_city = Counter(p.city for p in programme.people)
    per_sector = Counter(p.sector for p in programme.people)
    regs = len(programme.registrations)
    cities = ", ".join(f"{CITY_NAMES[c]} {per_city[c]}" for c in CITIES if per_city[c])
    sectors = ", ".join(f"{s} {per_sector[s]}" for s in SECTORS if per_sector[s])
    return (
        f"{len(programme.people)} people ({cities}; {sectors}), {regs} registrations in "
        f"{len(programme.sessions)} sessions of {len(programme.trainings)} trainings, "
        f"{len(programme.duplicate_registrations)} of them re-typed under another spelling/"
        f"contact, {sum(r.cancel for r in programme.registrations)} to be cancelled"
    )
