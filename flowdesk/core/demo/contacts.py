"""A deterministic pool of demo contacts with realistic, deliberately awkward data.

Contact ``c`` is computed from ``(seed, c)`` alone, so no table of a million contacts is kept in
memory and any run can rebuild its contact. The data is meant to shake out bugs: E.164 phones
from many countries, names in several scripts, empty and missing last names, missing emails, and
a few values that a spreadsheet would execute as formulas (``=SUM(A1)``, ``+…``, ``@…``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flowdesk.core.demo.common import DAY, IsoFn, mix, mix_many


@dataclass(frozen=True, slots=True)
class _Country:
    code: str
    weight: int
    # Leading national digits (area / mobile prefixes) and how many free digits follow them.
    leads: tuple[str, ...]
    free_digits: int
    first: tuple[str, ...]
    last: tuple[str, ...]
    domains: tuple[str, ...]


def _country(
    code: str, weight: int, leads: str, free: int, first: str, last: str, domains: str
) -> _Country:
    """Tables are written as "|"-separated strings to keep them readable."""
    return _Country(
        code,
        weight,
        tuple(leads.split("|")),
        free,
        tuple(first.split("|")),
        tuple(last.split("|")),
        tuple(domains.split("|")),
    )


_COUNTRIES: tuple[_Country, ...] = (
    _country(
        "52",
        18,
        "155|133|181|122|199",
        7,
        "José|María|Guadalupe|Juan Carlos|Ximena|Itzel|Alejandro|Sofía|Andrés|Renata",
        "Ñúñez|García|Hernández|López|Martínez|Pérez|Sánchez|Ramírez|Cruz|de la Peña",
        "gmail.com|hotmail.com|outlook.com|prodigy.net.mx",
    ),
    _country(
        "55",
        16,
        "1198|2199|3198|4199|5198|8197",
        7,
        "João|Conceição|Ana Luíza|Thiago|Gabriela|Luís|Beatriz|Caio|Letícia|Raí",
        "Silva|Santos|Oliveira|Souza|Conceição|Gonçalves|Araújo|Magalhães|Brandão|Assunção",
        "gmail.com|uol.com.br|bol.com.br|hotmail.com",
    ),
    _country(
        "1",
        14,
        "212|415|305|512|617|773|206",
        7,
        "Zoë|Michael|Jennifer|DeShawn|Emily|Christopher|Aaliyah|Brian|Megan|O'Neil",
        "Smith|Johnson|O'Brien|Williams|Nguyen|Brown|Miller|Davis|Rodriguez|Van der Berg",
        "gmail.com|yahoo.com|icloud.com|outlook.com",
    ),
    _country(
        "91",
        12,
        "98|97|91|88|70|63",
        8,
        "Priya|Aarav|Ananya|Rohan|Saanvi|Vihaan|Lakshmi|Arjun|प्रिया|Karthik",
        "Sharma|Patel|Iyer|Reddy|Gupta|Nair|Banerjee|Singh|शर्मा|Krishnamurthy",
        "gmail.com|rediffmail.com|yahoo.co.in",
    ),
    _country(
        "34",
        8,
        "6|7",
        8,
        "Lucía|Íñigo|Begoña|Jordi|Nuria|Álvaro|Maite|Iñaki",
        "Fernández|Muñoz|Ibáñez|Puig|Etxeberria|Gómez|Núñez",
        "gmail.com|telefonica.net|hotmail.es",
    ),
    _country(
        "44",
        8,
        "77|79|74|78",
        8,
        "Oliver|Amelia|Siobhán|Harry|Niamh|George|Isla|Rhys",
        "Smith|Jones|Taylor|O'Connor|Evans|Wilkinson|Ffion-Hughes",
        "gmail.com|btinternet.com|outlook.com",
    ),
    _country(
        "49",
        6,
        "151|160|170|176",
        8,
        "Jürgen|Anneliese|Lukas|Käthe|Jörg|Mia|Björn|Sören",
        "Müller|Schröder|Weiß|Groß|Schmidt|Bäcker|Fuß",
        "gmx.de|web.de|t-online.de",
    ),
    _country(
        "81",
        5,
        "90|80|70",
        8,
        "佐藤|Haruto|陽菜|Yui|蓮|Sakura|大翔",
        "佐藤|Suzuki|高橋|Tanaka|渡辺|Itō|山本",
        "docomo.ne.jp|gmail.com|yahoo.co.jp",
    ),
    _country(
        "86",
        3,
        "138|139|186|150",
        8,
        "李雷|韩梅梅|Wei|Xiaoming|静|Li Na",
        "李|王|Zhang|刘|Chen|",
        "qq.com|163.com",
    ),
    _country(
        "971",
        2,
        "50|55|56",
        7,
        "محمد|فاطمة|Ahmed|عائشة|Omar|Layla",
        "العلي|Al-Mansouri|الهاشمي|Haddad|بن راشد",
        "gmail.com|emirates.net.ae",
    ),
    _country(
        "20",
        2,
        "10|11|12",
        8,
        "محمد|Mona|يوسف|Nour|Karim",
        "حسن|Ibrahim|عبد الله|Farouk",
        "gmail.com|yahoo.com",
    ),
    _country(
        "45",
        2,
        "2|3|4",
        7,
        "Søren|Åse|Mette|Jørgen|Æbbe|Ida",
        "Ærøskøbing|Kjærgård|Østergaard|Nørgaard|Sørensen",
        "gmail.com|mail.dk",
    ),
    _country(
        "33",
        3,
        "6|7",
        8,
        "Élodie|François|Anaïs|Loïc|Chloé|Jérôme",
        "Lefèvre|Dupont|Girard|Bénard|Rousseau-Lévêque",
        "orange.fr|free.fr|gmail.com",
    ),
    _country(
        "234",
        3,
        "803|806|813|905",
        7,
        "Chinedu|Ngozi|Oluwaseun|Adaeze|Tunde|Ifeoma",
        "Okafor|Adeyemi|Nwosu|Balogun|Eze",
        "gmail.com|yahoo.com",
    ),
)

# Values that spreadsheets execute or mangle; exports must neutralise them.
HOSTILE_VALUES: tuple[str, ...] = (
    "=SUM(A1)",
    "+1 call me",
    "@admin",
    "-2+3",
    '=HYPERLINK("http://example.com","click")',
    "=cmd|' /C calc'!A0",
    "+",
)

_SOURCES = ("whatsapp", "whatsapp", "whatsapp", "csv_import", "api", "crm_sync")

_ASCII = str.maketrans(
    {
        "á": "a",
        "à": "a",
        "â": "a",
        "ä": "a",
        "ã": "a",
        "å": "a",
        "æ": "ae",
        "ç": "c",
        "é": "e",
        "è": "e",
        "ê": "e",
        "ë": "e",
        "í": "i",
        "ì": "i",
        "î": "i",
        "ï": "i",
        "ñ": "n",
        "ó": "o",
        "ò": "o",
        "ô": "o",
        "ö": "o",
        "õ": "o",
        "ø": "o",
        "ú": "u",
        "ù": "u",
        "û": "u",
        "ü": "u",
        "ß": "ss",
        "ō": "o",
        "'": "",
        " ": ".",
        "-": "",
    }
)


def _slug(name: str) -> str:
    """An email-safe local part, or "" for names in scripts without a Latin transliteration."""
    text = name.lower().translate(_ASCII)
    return text if text.isascii() and text.replace(".", "").isalnum() else ""


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A country's lookup tables, precomputed so that building a contact is mostly indexing."""

    prefixes: tuple[str, ...]  # "+52155" ...
    digits_format: str  # "%07d"
    modulus: int
    names: tuple[tuple[str, str, str], ...]  # (first, last, email local part)
    domains: tuple[str, ...]


def _prepare(country: _Country) -> _Prepared:
    names = []
    for first in country.first:
        for last in country.last:
            local = ".".join(p for p in (_slug(first), _slug(last)) if p)
            names.append((first, last, local))
    return _Prepared(
        prefixes=tuple(f"+{country.code}{lead}" for lead in country.leads),
        digits_format=f"%0{country.free_digits}d",
        modulus=10**country.free_digits,
        names=tuple(names),
        domains=country.domains,
    )


def _weighted_table(countries: tuple[_Country, ...]) -> list[_Prepared]:
    table: list[_Prepared] = []
    for country in countries:
        table.extend([_prepare(country)] * country.weight)
    return table


_TABLE = _weighted_table(_COUNTRIES)
_TIMES = 4096  # distinct (created, updated) pairs per pool


class ContactPool:
    """``size`` contacts; ``contact(c)`` builds the ``ContactReadSimple`` dict for contact ``c``.

    Everything about contact ``c`` comes from one 64-bit hash of ``(seed, c)``, sliced into
    fields. Phones are unique: the free digits are an affine bijection of ``c`` modulo 10^k
    (k >= 7). Nothing is cached: at a million runs most contacts are seen once per sync, and a
    cache would cost more memory than the few microseconds it saves.
    """

    def __init__(self, seed: int, size: int, created_before: int, iso: IsoFn) -> None:
        self.size = max(1, size)
        self._salt = mix_many(seed, 0xC0417AC7)
        self._offset = self._salt & 0xFFFFF
        times = []
        for i in range(_TIMES):
            h = mix(self._salt ^ (i << 40))
            created = created_before - h % (700 * DAY)
            updated = min(created + (h >> 32) % (30 * DAY), created_before)
            times.append((iso(created), iso(updated)))
        self._times = times

    def contact(self, c: int) -> dict[str, Any]:
        h = mix(self._salt ^ c)
        country = _TABLE[h % len(_TABLE)]
        names = country.names
        first, last_name, local = names[(h >> 7) % len(names)]
        last: str | None = last_name
        roll = (h >> 14) & 0x3FF  # 0..1023
        if roll < 105:
            if roll < 45:
                last = None
            elif roll < 95:
                last = ""
            elif roll < 101:
                last = HOSTILE_VALUES[(h >> 24) % len(HOSTILE_VALUES)]
            else:
                first = HOSTILE_VALUES[(h >> 24) % len(HOSTILE_VALUES)]
        digits = (c * 7_368_787 + self._offset) % country.modulus
        prefixes = country.prefixes
        email: str | None = None
        if (h >> 30) % 100 >= 22:
            if not local:
                local = f"user{digits % 100000}"
            if (h >> 44) & 1:
                local += str((h >> 37) % 100)
            domains = country.domains
            email = local + "@" + domains[(h >> 45) % len(domains)]
        created, updated = self._times[(h >> 48) & (_TIMES - 1)]
        return {
            "id": str(300_000 + c),
            "phone": prefixes[(h >> 27) % len(prefixes)] + country.digits_format % digits,
            "first_name": first,
            "last_name": last,
            "email": email,
            "created_on": created,
            "last_updated_on": updated,
            "source": _SOURCES[(h >> 60) % len(_SOURCES)],
        }
