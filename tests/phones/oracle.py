"""Cases for the differential test of phone validation, with what Google's
libphonenumber (Python's `phonenumbers`, the same metadata version as the
product's `rlibphonenumber`) makes of them.

Usage: oracle.py OUT.jsonl [SCALE]. Writes one JSON object per line:
{"raw", "country" (ISO code or null), "e164" (the number, or null when
refused), "kind"}. SCALE (default 1) multiplies the random parts.

The expected value is libphonenumber's parse (in the row's country when it
has one, else as an international number), valid, as E.164, with the
product's named rules on top of it:
- "00 without a country": digits after a `00` prefix are read as after a
  `+` when nothing else makes them a valid number;
- "at most 15 digits": a number whose E.164 form is longer than E.164
  allows (libphonenumber formats some 16- and 17-digit numbers) is refused.
Cases use only the characters the product reads in a phone: digits, a
leading `+`, spaces, `-`, `.`, `(`, `)`.
"""

import json
import random
import sys

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

KEPT = set("0123456789+ -.()")


def libphonenumber(raw, country):
    try:
        number = phonenumbers.parse(raw, None if raw.lstrip().startswith("+") else country)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def expected(raw, country):
    found = libphonenumber(raw, country)
    compact = "".join(c for c in raw if c.isdigit() or c == "+")
    if found is None and compact.startswith("00"):
        found = libphonenumber("+" + compact[2:], None)
    if found is not None and len(found) - 1 > 15:
        return None
    return found


def mutations(digits, rng):
    """A digit added, removed and changed."""
    at = rng.randrange(len(digits))
    yield digits[:at] + str(rng.randrange(10)) + digits[at:], "digit added"
    yield digits[:at] + digits[at + 1 :], "digit removed"
    yield digits[:at] + str((int(digits[at]) + 1) % 10) + digits[at + 1 :], "digit changed"


def main(out, scale):
    rng = random.Random(20261202)
    cases = []

    def case(raw, country, kind):
        if set(raw) <= KEPT and raw.strip():
            cases.append({"raw": raw, "country": country, "e164": expected(raw, country), "kind": kind})

    types = [t for t in vars(PhoneNumberType).values() if isinstance(t, int) and t != PhoneNumberType.UNKNOWN]
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        code = str(phonenumbers.country_code_for_region(region))
        for kind in types:
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            e164 = phonenumbers.format_number(example, PhoneNumberFormat.E164)
            national = phonenumbers.format_number(example, PhoneNumberFormat.NATIONAL)
            significant = phonenumbers.national_significant_number(example)
            case(e164, None, "example E.164")
            case(phonenumbers.format_number(example, PhoneNumberFormat.INTERNATIONAL), None, "example international")
            case(national, region, "example national")
            case("00" + e164[1:], None, "00 prefix")
            case("00" + e164[1:], region, "00 prefix in its country")
            case(code + significant, region, "country code without +")
            case(code + significant, None, "country code without + or country")
            case(significant, region, "national significant number")
            for mutated, how in mutations(e164[1:], rng):
                case("+" + mutated, None, f"example E.164, {how}")
            for mutated, how in mutations(significant, rng):
                case(mutated, region, f"example national, {how}")
    # Mobiles like the benchmark file's: 8 countries, runs of numbers.
    for region in ["US", "GB", "DE", "FR", "ES", "IN", "BR", "JP"]:
        example = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE)
        base = int(phonenumbers.national_significant_number(example))
        for step in range(200 * scale):
            significant = str(base + step * 7919)
            number = phonenumbers.parse("+" + str(example.country_code) + significant)
            case(phonenumbers.format_number(number, PhoneNumberFormat.E164), region, "benchmark-like mobile")
    regions = sorted(phonenumbers.SUPPORTED_REGIONS)
    for _ in range(2000 * scale):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randrange(4, 16)))
        region = rng.choice(regions)
        case("+" + digits, None, "random E.164")
        case(digits, region, "random national")
    with open(out, "w", encoding="utf-8") as file:
        for line in cases:
            file.write(json.dumps(line, ensure_ascii=False) + "\n")
    print(f"{len(cases)} cases, libphonenumber {phonenumbers.__version__}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1)
