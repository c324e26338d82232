"""A development set for deciding when a tool call should not be made, apart from the held-out set.

``tests/tool_prompts_heldout.py`` is held out: routing must never be tuned on it. Thresholds and
signals that decide "call or answer in text" are tuned here instead, then measured once on the
held-out set by ``bench/tool_calls.py``. The cases are in the same style (one invented function,
described only by its schema and description), written apart from the held-out ones:

- :data:`DEV_SERVICEABLE`: a request the offered function serves (a call is right).
- :data:`DEV_UNSERVICEABLE`: a request the offered function cannot serve, often a near miss
  (the same subject, another action; the same action, another kind of quantity).
"""

from __future__ import annotations

from tool_prompts_heldout import _CURRENCY, _DATE, HeldOutCase, _enum, _fn, _int, _num, _str

_C = HeldOutCase

# Each function is offered with a request it serves and with a near miss it does not.
_F = {
    "convert_currency": _fn(
        "convert_currency",
        "Convert an amount of money between currencies.",
        {"amount": _num("Amount."), "from_currency": _str(_CURRENCY), "to_currency": _str(_CURRENCY)},
    ),
    "fahrenheit_to_celsius": _fn(
        "fahrenheit_to_celsius",
        "Convert a temperature from Fahrenheit to Celsius.",
        {"fahrenheit": _num("Temperature in degrees Fahrenheit.")},
    ),
    "is_prime": _fn("is_prime", "Whether an integer is prime.", {"n": _int("The integer.")}),
    "country_population": _fn(
        "country_population", "Latest population estimate of a country.", {"country": _str("Country name.")}
    ),
    "rectangle_perimeter": _fn(
        "rectangle_perimeter",
        "Perimeter of a rectangle.",
        {"length": _num("Length."), "width": _num("Width.")},
    ),
    "create_reminder": _fn(
        "create_reminder",
        "Create a reminder at a time of day.",
        {"text": _str("What to be reminded of."), "time": _str("Time of day, HH:MM.")},
    ),
    "days_between": _fn(
        "days_between", "Number of days between two dates.", {"start": _str(_DATE), "end": _str(_DATE)}
    ),
    "define_word": _fn(
        "define_word", "Dictionary definition of an English word.", {"word": _str("The word.")}
    ),
    "stock_quote": _fn("stock_quote", "Latest trading price of a stock.", {"symbol": _str("Ticker symbol.")}),
    "play_music": _fn(
        "play_music",
        "Play music of a genre.",
        {"genre": _enum("Genre.", ["jazz", "rock", "classical", "pop"])},
    ),
    "tip_amount": _fn(
        "tip_amount",
        "Tip to leave on a restaurant bill.",
        {"bill": _num("Bill total."), "percent": _num("Tip in percent.")},
    ),
    "set_temperature": _fn(
        "set_temperature",
        "Set a room's target temperature in degrees Celsius.",
        {"room": _str("Room name."), "degrees": _num("Target temperature.")},
    ),
    "search_flights": _fn(
        "search_flights",
        "Search flights between two airports or cities on a date.",
        {"origin": _str("From."), "destination": _str("To."), "date": _str(_DATE)},
    ),
    "driving_distance": _fn(
        "driving_distance",
        "Road distance between two places.",
        {"origin": _str("Start."), "destination": _str("End.")},
    ),
    "square_root": _fn("square_root", "Square root of a number.", {"x": _num("The number.")}),
    "translate_text": _fn(
        "translate_text",
        "Translate text into another language.",
        {"text": _str("Text."), "language": _str("Target language.")},
    ),
    "air_quality_index": _fn(
        "air_quality_index", "Today's air quality index in a city.", {"city": _str("City.")}
    ),
    "body_mass_index": _fn(
        "body_mass_index",
        "Body mass index from weight and height.",
        {"weight_kg": _num("Weight in kilograms."), "height_m": _num("Height in metres.")},
    ),
    "send_text": _fn(
        "send_text",
        "Send a text message to a contact.",
        {"contact": _str("Contact name."), "message": _str("Message.")},
    ),
    "roll_dice": _fn(
        "roll_dice",
        "Roll dice and return the results.",
        {"count": _int("How many dice."), "sides": _int("Sides per die.")},
    ),
    "length_conversion": _fn(
        "length_conversion",
        "Convert a length between units.",
        {"value": _num("Length."), "from_unit": _str("Unit."), "to_unit": _str("Unit.")},
    ),
    "book_by_isbn": _fn("book_by_isbn", "Title and author of a book from its ISBN.", {"isbn": _str("ISBN.")}),
    "sunrise_time": _fn(
        "sunrise_time", "Sunrise time in a city on a date.", {"city": _str("City."), "date": _str(_DATE)}
    ),
    "mean": _fn(
        "mean", "Arithmetic mean of numbers.", {"numbers": {"type": "array", "items": {"type": "number"}}}
    ),
}

DEV_SERVICEABLE: list[HeldOutCase] = [
    _C(
        "How much is 250 euros in Japanese yen?",
        _F["convert_currency"],
        {"amount": 250, "from_currency": "EUR", "to_currency": "JPY"},
    ),
    _C("What is 68 degrees Fahrenheit in Celsius?", _F["fahrenheit_to_celsius"], {"fahrenheit": 68}),
    _C("Is 7919 a prime number?", _F["is_prime"], {"n": 7919}),
    _C("Give me the population of Portugal.", _F["country_population"], {"country": "Portugal"}),
    _C(
        "What's the perimeter of a rectangle 12 m by 5 m?",
        _F["rectangle_perimeter"],
        {"length": 12, "width": 5},
    ),
    _C(
        "Remind me to water the plants at 6 pm.",
        _F["create_reminder"],
        {"text": "water the plants", "time": "18:00"},
        check="contains",
    ),
    _C(
        "How many days are there between 2025-01-10 and 2025-03-01?",
        _F["days_between"],
        {"start": "2025-01-10", "end": "2025-03-01"},
    ),
    _C("Look up the word 'ephemeral' in the dictionary.", _F["define_word"], {"word": "ephemeral"}),
    _C("What's the stock price of NVDA right now?", _F["stock_quote"], {"symbol": "NVDA"}),
    _C("Play some jazz music.", _F["play_music"], {"genre": "jazz"}),
    _C("Tip for a $84 bill at 18 percent?", _F["tip_amount"], {"bill": 84, "percent": 18}),
    _C("Set the living room to 21 degrees.", _F["set_temperature"], {"room": "living room", "degrees": 21}),
    _C(
        "Find flights from Paris to Rome on 2025-06-14.",
        _F["search_flights"],
        {"origin": "Paris", "destination": "Rome", "date": "2025-06-14"},
    ),
    _C(
        "How far is it from Berlin to Prague by road?",
        _F["driving_distance"],
        {"origin": "Berlin", "destination": "Prague"},
    ),
    _C("Square root of 1764?", _F["square_root"], {"x": 1764}),
    _C(
        "Translate 'good night' into German.",
        _F["translate_text"],
        {"text": "good night", "language": "German"},
        check="contains",
    ),
    _C("What's the air quality in Delhi today?", _F["air_quality_index"], {"city": "Delhi"}),
    _C("Calculate the BMI for 82 kg and 1.80 m.", _F["body_mass_index"], {"weight_kg": 82, "height_m": 1.8}),
    _C(
        "Text Maria that I'm running ten minutes late.",
        _F["send_text"],
        {"contact": "Maria", "message": "late"},
        check="contains",
    ),
    _C("Roll two six-sided dice.", _F["roll_dice"], {"count": 2, "sides": 6}),
    _C(
        "Convert 5 kilometres to miles.",
        _F["length_conversion"],
        {"value": 5, "from_unit": "kilometres", "to_unit": "miles"},
        check="contains",
    ),
    _C(
        "Who is the author of the book with ISBN 9780141439518?",
        _F["book_by_isbn"],
        {"isbn": "9780141439518"},
    ),
    _C("When does the sun rise in Oslo tomorrow?", _F["sunrise_time"], None),  # relative date: any call
    _C("Average of 4, 8, 15 and 23?", _F["mean"], {"numbers": [4, 8, 15, 23]}),
]

DEV_UNSERVICEABLE: list[HeldOutCase] = [
    _C("Cancel my flight to Rome.", _F["search_flights"], None),
    _C("Convert 5 kilograms to pounds.", _F["length_conversion"], None),
    _C("What's the area of a triangle with base 6 and height 4?", _F["rectangle_perimeter"], None),
    _C("Buy 10 shares of NVDA.", _F["stock_quote"], None),
    _C("Delete my reminder about the dentist.", _F["create_reminder"], None),
    _C("What will the weather be like in Oslo tomorrow?", _F["sunrise_time"], None),
    _C("Write a haiku about the rain.", _F["define_word"], None),
    _C("Pay my electricity bill of $120.", _F["tip_amount"], None),
    _C("Turn on the bedroom fan.", _F["set_temperature"], None),
    _C("Who painted the Mona Lisa?", _F["country_population"], None),
    _C("Stop the music.", _F["play_music"], None),
    _C("Convert 100 dollars to kilometres.", _F["square_root"], None),
    _C("Call Maria and tell her I'm late.", _F["roll_dice"], None),
    _C("How long does it take to fly from Berlin to Prague?", _F["book_by_isbn"], None),
    _C("Median of 4, 8, 15 and 23?", _F["is_prime"], None),
    _C("Summarise the history of Portugal in three sentences.", _F["air_quality_index"], None),
    _C("Book a taxi to the airport at 7 am.", _F["driving_distance"], None),
    _C("What is the circumference of a circle with radius 3?", _F["square_root"], None),
    _C("Open a new bank account in euros.", _F["convert_currency"], None),
    _C("Email my landlord that the heating is broken.", _F["send_text"], None),
    _C("Teach me how to play chess.", _F["mean"], None),
    _C("What's 40 degrees Celsius in Fahrenheit?", _F["fahrenheit_to_celsius"], None),
    _C("Recommend a good novel for a long train ride.", _F["book_by_isbn"], None),
    _C("How many people live in Tokyo's metro area, and is it growing?", _F["days_between"], None),
]
