"""A second, held-out set of tool-calling prompts, kept apart from ``tests/tool_prompts.py``.

Held out: written once and never used to tune prompts, grammars, routing or candidate
extraction. Look at the scores it produces, not at its cases, when changing those; a case that
is edited to make a model pass stops measuring anything. Report it on its own, next to (never
merged with) the scores of ``tests/tool_prompts.py``.

The style is that of the "simple" category of the Berkeley Function Calling Leaderboard: each
case offers exactly one function, invented for that case, whose typed parameters are described
only by its JSON schema and its description (no example requests, no ``examples`` keyword).
The prompts write numbers, dates and times as people do ("2,340", "7.5%", "twelve",
"March 3rd, 2025", "3:30 pm") and often name paired parameters (from/to, start/end) in the
opposite order to the schema.

- :data:`SINGLE_FUNCTION`: a request the offered function serves, with the expected arguments.
  Score a model by whether it calls that function and :func:`args_match` accepts its arguments.
- :data:`UNSERVICEABLE`: a request none of the offered functions can serve. A correct model
  answers in text and calls nothing.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class HeldOutCase(NamedTuple):
    """One prompt, the function offered for it and the arguments a correct call has.

    ``check`` says how string arguments are compared: ``"exact"`` (equal after stripping and
    case folding) or ``"contains"`` (the argument contains the expected text, case-folded), for
    free text such as queries and message bodies. Numbers are compared as floats within 1e-6.
    """

    prompt: str
    function: dict[str, Any]
    expected: dict[str, Any] | None
    check: str = "exact"
    other_functions: tuple[dict[str, Any], ...] = ()  # also offered (unserviceable cases only)

    @property
    def functions(self) -> list[dict[str, Any]]:
        """Every function offered with the prompt."""
        return [self.function, *self.other_functions]


# --- schema builders (keep the cases short) ------------------------------------------------------


def _fn(
    name: str,
    description: str,
    required: dict[str, dict[str, Any]],
    optional: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": {**required, **(optional or {})},
                "required": list(required),
            },
        },
    }


def _str(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


def _int(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "integer", "description": description, **extra}


def _num(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "number", "description": description, **extra}


def _bool(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "boolean", "description": description, **extra}


def _enum(description: str, values: list[Any], **extra: Any) -> dict[str, Any]:
    kind = "integer" if all(isinstance(v, int) for v in values) else "string"
    return {"type": kind, "description": description, "enum": values, **extra}


def _array(description: str, item_type: str) -> dict[str, Any]:
    return {"type": "array", "description": description, "items": {"type": item_type}}


_DATE = "Date in ISO format YYYY-MM-DD."
_TIME = "Time of day in 24-hour format HH:MM."
_TZ = "IANA time zone name, such as the ones in the tz database (Area/City)."
_CURRENCY = "Three-letter ISO 4217 currency code."
_LENGTH_UNITS = ["mm", "cm", "m", "km", "in", "ft", "yd", "mi"]

_C = HeldOutCase

SINGLE_FUNCTION: list[HeldOutCase] = [
    # --- finance ---------------------------------------------------------------------------------
    _C(
        "If I put $12,500 into an account paying 4.25% a year, compounded monthly, what will it be "
        "worth after eight years?",
        _fn(
            "calculate_compound_interest",
            "Future value of a deposit with compound interest.",
            {
                "principal": _num("Amount deposited, in currency units."),
                "annual_rate": _num("Yearly interest rate as a fraction of 1, not a percentage."),
                "years": _int("Number of whole years the money is invested."),
            },
            {"compounds_per_year": _int("How many times a year interest is compounded.", default=1)},
        ),
        {"principal": 12500, "annual_rate": 0.0425, "years": 8, "compounds_per_year": 12},
    ),
    _C(
        "What's the monthly payment on a 30-year mortgage of $345,000 at 6.875%?",
        _fn(
            "monthly_loan_payment",
            "Fixed monthly payment of an amortised loan.",
            {
                "loan_amount": _num("Amount borrowed."),
                "annual_interest_percent": _num("Yearly interest rate in percent (7 means 7%)."),
                "term_years": _int("Length of the loan in years."),
            },
        ),
        {"loan_amount": 345000, "annual_interest_percent": 6.875, "term_years": 30},
    ),
    _C(
        "How many Japanese yen would I get for 1,250.50 euros?",
        _fn(
            "convert_currency_amount",
            "Convert an amount of money from one currency to another at today's rate.",
            {
                "amount": _num("Amount of money in the source currency."),
                "from_currency": _str(_CURRENCY + " Currency the amount is in."),
                "to_currency": _str(_CURRENCY + " Currency to convert into."),
            },
        ),
        {"amount": 1250.5, "from_currency": "EUR", "to_currency": "JPY"},
    ),
    _C(
        "What's Coca-Cola trading at on the New York Stock Exchange? Its ticker is KO.",
        _fn(
            "get_stock_quote",
            "Latest traded price of a listed share.",
            {"ticker": _str("Ticker symbol of the share.")},
            {"exchange": _enum("Stock exchange.", ["NASDAQ", "NYSE", "LSE", "TSE"], default="NASDAQ")},
        ),
        {"ticker": "KO", "exchange": "NYSE"},
    ),
    _C(
        "Our dinner came to $186.40. What's an 18% tip each if the four of us split it?",
        _fn(
            "calculate_tip",
            "Tip on a restaurant bill, optionally split between several people.",
            {
                "bill_amount": _num("Total of the bill before the tip."),
                "tip_percent": _num("Tip in percent of the bill (15 means 15%)."),
            },
            {"split_between": _int("Number of people sharing the tip.", default=1)},
        ),
        {"bill_amount": 186.4, "tip_percent": 18, "split_between": 4},
    ),
    _C(
        "I bought shares for 8,000 dollars and sold them for 9,340. What was my return on investment?",
        _fn(
            "return_on_investment",
            "Return on an investment as a percentage of what was put in.",
            {
                "initial_investment": _num("Amount originally invested."),
                "final_value": _num("Value of the investment at the end."),
            },
        ),
        {"initial_investment": 8000, "final_value": 9340},
    ),
    _C(
        "A delivery van cost 42,000 and will be worth 6,500 at the end of its seven-year life. "
        "Give me the yearly straight-line depreciation.",
        _fn(
            "straight_line_depreciation",
            "Yearly depreciation of an asset by the straight-line method.",
            {
                "asset_cost": _num("Purchase cost of the asset."),
                "salvage_value": _num("Value of the asset at the end of its useful life."),
                "useful_life_years": _int("Useful life of the asset in years."),
            },
        ),
        {"asset_cost": 42000, "salvage_value": 6500, "useful_life_years": 7},
    ),
    _C(
        "What would $100 from 1985 be worth in 2024 dollars?",
        _fn(
            "adjust_for_inflation",
            "Value of an amount of money from one year expressed in the money of another year.",
            {
                "amount": _num("Amount of money in the original year."),
                "from_year": _int("Year the amount is from."),
                "to_year": _int("Year to express the amount in."),
            },
            {"country": _str("Two-letter ISO 3166-1 country code.", default="US")},
        ),
        {"amount": 100, "from_year": 1985, "to_year": 2024},
    ),
    _C(
        "My house is assessed at $412,000 and the local rate is 1.15%. What's the yearly property tax?",
        _fn(
            "estimate_property_tax",
            "Yearly property tax from the assessed value and the tax rate.",
            {
                "assessed_value": _num("Assessed value of the property."),
                "tax_rate_percent": _num("Property tax rate in percent of the assessed value."),
            },
        ),
        {"assessed_value": 412000, "tax_rate_percent": 1.15},
    ),
    _C(
        "Sales went from 2,340 units last year to 1,980 this year. By what percentage did they change?",
        _fn(
            "percentage_change",
            "Relative change from an old value to a new value, in percent.",
            {"old_value": _num("Value before the change."), "new_value": _num("Value after the change.")},
        ),
        {"old_value": 2340, "new_value": 1980},
    ),
    # --- geometry --------------------------------------------------------------------------------
    _C(
        "Find the area of a circle with a radius of 7.5 cm.",
        _fn(
            "circle_area",
            "Area of a circle.",
            {"radius": _num("Radius of the circle.")},
            {"unit": _enum("Unit of the radius.", _LENGTH_UNITS, default="m")},
        ),
        {"radius": 7.5, "unit": "cm"},
    ),
    _C(
        "A triangle has a height of 12 and a base of 9. What's its area?",
        _fn(
            "triangle_area",
            "Area of a triangle from its base and height.",
            {"base": _num("Length of the base."), "height": _num("Height perpendicular to the base.")},
        ),
        {"base": 9, "height": 12},
    ),
    _C(
        "What's the volume of a cylinder 30 cm tall with a radius of 4 cm?",
        _fn(
            "cylinder_volume",
            "Volume of a right circular cylinder.",
            {"radius": _num("Radius of the base."), "height": _num("Height of the cylinder.")},
            {"unit": _enum("Unit of both lengths.", _LENGTH_UNITS, default="m")},
        ),
        {"radius": 4, "height": 30, "unit": "cm"},
    ),
    _C(
        "How far apart are the points (3, -4) and (-2, 8)?",
        _fn(
            "distance_between_points",
            "Euclidean distance between two points in the plane.",
            {
                "x1": _num("x coordinate of the first point."),
                "y1": _num("y coordinate of the first point."),
                "x2": _num("x coordinate of the second point."),
                "y2": _num("y coordinate of the second point."),
            },
        ),
        {"x1": 3, "y1": -4, "x2": -2, "y2": 8},
    ),
    _C(
        "What's each interior angle of a regular twelve-sided polygon?",
        _fn(
            "regular_polygon_interior_angle",
            "Interior angle, in degrees, of a regular polygon.",
            {"sides": _int("Number of sides of the polygon.")},
        ),
        {"sides": 12},
    ),
    _C(
        "Compute the volume of a ball whose radius is 0.35 metres.",
        _fn(
            "sphere_volume",
            "Volume of a sphere.",
            {"radius": _num("Radius of the sphere.")},
            {"unit": _enum("Unit of the radius.", _LENGTH_UNITS, default="cm")},
        ),
        {"radius": 0.35, "unit": "m"},
    ),
    # --- physics ---------------------------------------------------------------------------------
    _C(
        "A car starts at 12 m/s and accelerates at 2.5 m/s² for 8 seconds. How fast is it going at the end?",
        _fn(
            "final_velocity",
            "Velocity after constant acceleration, in metres per second.",
            {
                "initial_velocity": _num("Starting velocity in m/s."),
                "acceleration": _num("Constant acceleration in m/s^2."),
                "time": _num("Duration of the acceleration in seconds."),
            },
        ),
        {"initial_velocity": 12, "acceleration": 2.5, "time": 8},
    ),
    _C(
        "I drove 342 km in 3 hours and 45 minutes. What was my average speed?",
        _fn(
            "average_speed",
            "Average speed in km/h over a trip.",
            {
                "distance_km": _num("Distance travelled in kilometres."),
                "time_hours": _num("Time taken, in hours (fractions allowed)."),
            },
        ),
        {"distance_km": 342, "time_hours": 3.75},
    ),
    _C(
        "What is the kinetic energy of a 1,500 kg car moving at 20 m/s?",
        _fn(
            "kinetic_energy",
            "Kinetic energy in joules of a moving body.",
            {"mass_kg": _num("Mass in kilograms."), "velocity_ms": _num("Speed in metres per second.")},
        ),
        {"mass_kg": 1500, "velocity_ms": 20},
    ),
    _C(
        "A current of 0.015 A flows through a resistor when 9 volts is applied across it. What's the resistance?",
        _fn(
            "resistance_from_ohms_law",
            "Electrical resistance in ohms from voltage and current.",
            {"voltage": _num("Voltage in volts."), "current": _num("Current in amperes.")},
        ),
        {"voltage": 9, "current": 0.015},
    ),
    _C(
        "How long does it take a stone dropped from 45 meters to hit the ground?",
        _fn(
            "free_fall_time",
            "Time in seconds for an object dropped from rest to fall a given height, ignoring air.",
            {"height_m": _num("Height of the drop in metres.")},
            {"gravity": _num("Gravitational acceleration in m/s^2.", default=9.81)},
        ),
        {"height_m": 45},
    ),
    _C(
        "What's the wavelength of a 2.4 GHz signal travelling through air?",
        _fn(
            "wavelength_from_frequency",
            "Wavelength of an electromagnetic wave in metres.",
            {
                "frequency": _num("Frequency, in the unit given by frequency_unit."),
                "frequency_unit": _enum("Unit of the frequency.", ["Hz", "kHz", "MHz", "GHz"]),
            },
            {"medium": _enum("Medium the wave travels in.", ["vacuum", "air", "water"], default="vacuum")},
        ),
        {"frequency": 2.4, "frequency_unit": "GHz", "medium": "air"},
    ),
    # --- statistics and maths --------------------------------------------------------------------
    _C(
        "What's the median of 14, 3, 27, 8 and 19?",
        _fn(
            "summary_statistic",
            "One summary statistic of a list of numbers.",
            {
                "values": _array("The numbers, in the order given.", "number"),
                "measure": _enum("Statistic to compute.", ["mean", "median", "mode", "stdev"]),
            },
        ),
        {"values": [14, 3, 27, 8, 19], "measure": "median"},
    ),
    _C(
        "What's the chance of getting exactly 3 heads in ten tosses of a fair coin?",
        _fn(
            "binomial_probability",
            "Probability of exactly k successes in n independent trials.",
            {
                "trials": _int("Number of trials n."),
                "successes": _int("Number of successes k."),
                "probability": _num("Probability of success in one trial, between 0 and 1."),
            },
        ),
        {"trials": 10, "successes": 3, "probability": 0.5},
    ),
    _C(
        "My score was 82; the class average was 74 with a standard deviation of 6.5. What's my z-score?",
        _fn(
            "z_score",
            "Standard score of a value in a normal distribution.",
            {
                "value": _num("The observed value."),
                "mean": _num("Mean of the distribution."),
                "std_dev": _num("Standard deviation of the distribution."),
            },
        ),
        {"value": 82, "mean": 74, "std_dev": 6.5},
    ),
    _C(
        "A sample of 64 bolts has a mean length of 50.2 mm and a standard deviation of 1.6 mm. "
        "Give me a 99% confidence interval for the mean.",
        _fn(
            "mean_confidence_interval",
            "Confidence interval for a population mean from sample statistics.",
            {
                "sample_mean": _num("Mean of the sample."),
                "std_dev": _num("Standard deviation of the sample."),
                "sample_size": _int("Number of observations in the sample."),
                "confidence_percent": _enum("Confidence level in percent.", [90, 95, 99]),
            },
        ),
        {"sample_mean": 50.2, "std_dev": 1.6, "sample_size": 64, "confidence_percent": 99},
    ),
    _C(
        "Find the roots of 2x² − 3x − 5 = 0.",
        _fn(
            "solve_quadratic",
            "Real roots of the equation a*x^2 + b*x + c = 0.",
            {
                "a": _num("Coefficient of x^2."),
                "b": _num("Coefficient of x."),
                "c": _num("Constant term."),
            },
        ),
        {"a": 2, "b": -3, "c": -5},
    ),
    _C(
        "What is fifteen factorial?",
        _fn("factorial", "Factorial of a non-negative integer.", {"n": _int("The integer.")}),
        {"n": 15},
    ),
    _C(
        "Is 7,919 a prime number?",
        _fn("is_prime", "Whether an integer is prime.", {"number": _int("The integer to test.")}),
        {"number": 7919},
    ),
    _C(
        "I got 87 out of 120 on the exam. What is that as a percentage?",
        _fn(
            "percentage_of_total",
            "What percentage a part is of a whole.",
            {"part": _num("The part."), "whole": _num("The whole.")},
        ),
        {"part": 87, "whole": 120},
    ),
    # --- weather ---------------------------------------------------------------------------------
    _C(
        "Will it rain in Lisbon on March 3rd, 2025? Give me the temperatures in Fahrenheit.",
        _fn(
            "get_weather_forecast",
            "Weather forecast for a city on one day.",
            {"city": _str("Name of the city."), "date": _str(_DATE)},
            {"units": _enum("Temperature unit.", ["celsius", "fahrenheit"], default="celsius")},
        ),
        {"city": "Lisbon", "date": "2025-03-03", "units": "fahrenheit"},
    ),
    _C(
        "What's the UV index going to be in Sydney on 2025-01-15?",
        _fn(
            "get_uv_index",
            "Forecast maximum UV index for a city on one day.",
            {"city": _str("Name of the city."), "date": _str(_DATE)},
        ),
        {"city": "Sydney", "date": "2025-01-15"},
    ),
    _C(
        "How much rain fell in Seattle on 14 November 2023?",
        _fn(
            "historical_weather",
            "One measured weather quantity for a city on a past day.",
            {
                "city": _str("Name of the city."),
                "date": _str(_DATE),
                "metric": _enum("Quantity to look up.", ["temperature", "precipitation", "wind_speed"]),
            },
        ),
        {"city": "Seattle", "date": "2023-11-14", "metric": "precipitation"},
    ),
    _C(
        "What time does the sun set in Reykjavik on 21 December 2025?",
        _fn(
            "get_sun_times",
            "Local time of sunrise or sunset in a city on one day.",
            {
                "city": _str("Name of the city."),
                "date": _str(_DATE),
                "event": _enum("Which event.", ["sunrise", "sunset"]),
            },
        ),
        {"city": "Reykjavik", "date": "2025-12-21", "event": "sunset"},
    ),
    # --- bookings and travel ---------------------------------------------------------------------
    _C(
        "Book a table for six at Trattoria Lucca on Friday, June 6th, 2025 at 7:45 pm.",
        _fn(
            "book_restaurant_table",
            "Reserve a table at a restaurant.",
            {
                "restaurant": _str("Name of the restaurant."),
                "party_size": _int("Number of people."),
                "date": _str(_DATE),
                "time": _str(_TIME),
            },
        ),
        {"restaurant": "Trattoria Lucca", "party_size": 6, "date": "2025-06-06", "time": "19:45"},
    ),
    _C(
        "I need a hotel room in Vienna for 2 guests, checking out on 2025-09-14 and arriving on 2025-09-10.",
        _fn(
            "book_hotel_room",
            "Reserve hotel rooms in a city.",
            {
                "city": _str("City of the hotel."),
                "check_in": _str("Arrival date. " + _DATE),
                "check_out": _str("Departure date. " + _DATE),
                "guests": _int("Number of guests."),
            },
            {"rooms": _int("Number of rooms.", default=1)},
        ),
        {"city": "Vienna", "check_in": "2025-09-10", "check_out": "2025-09-14", "guests": 2},
    ),
    _C(
        "Find me business-class flights to Tokyo Haneda (HND) from San Francisco (SFO) on October 2nd, 2025.",
        _fn(
            "search_flights",
            "Search one-way flights between two airports on a date.",
            {
                "origin": _str("Three-letter IATA code of the departure airport."),
                "destination": _str("Three-letter IATA code of the arrival airport."),
                "departure_date": _str(_DATE),
            },
            {
                "cabin_class": _enum(
                    "Cabin class.", ["economy", "premium_economy", "business", "first"], default="economy"
                )
            },
        ),
        {"origin": "SFO", "destination": "HND", "departure_date": "2025-10-02", "cabin_class": "business"},
    ),
    _C(
        "Reserve an SUV in Denver; I'll return it on July 5th, 2025 and pick it up on 2025-07-01.",
        _fn(
            "rent_car",
            "Reserve a rental car.",
            {
                "pickup_city": _str("City where the car is collected."),
                "pickup_date": _str(_DATE),
                "return_date": _str(_DATE),
                "car_type": _enum("Kind of car.", ["compact", "sedan", "suv", "van"]),
            },
        ),
        {
            "pickup_city": "Denver",
            "pickup_date": "2025-07-01",
            "return_date": "2025-07-05",
            "car_type": "suv",
        },
    ),
    _C(
        "Can you book me in with Dr. Okafor at 9:15 am on 2025-04-22?",
        _fn(
            "book_doctor_appointment",
            "Book an appointment with a doctor.",
            {
                "doctor_last_name": _str("Family name of the doctor, without title."),
                "date": _str(_DATE),
                "time": _str(_TIME),
            },
        ),
        {"doctor_last_name": "Okafor", "date": "2025-04-22", "time": "09:15"},
    ),
    _C(
        "How do I walk to the Louvre from Gare du Nord?",
        _fn(
            "get_directions",
            "Route between two places.",
            {"origin": _str("Starting place."), "destination": _str("Place to go to.")},
            {
                "mode": _enum(
                    "Way of travelling.", ["driving", "walking", "cycling", "transit"], default="driving"
                )
            },
        ),
        {"origin": "Gare du Nord", "destination": "Louvre", "mode": "walking"},
        "contains",
    ),
    _C(
        "When is 'Dune: Part Two' showing in Manchester on 2025-03-08?",
        _fn(
            "find_showtimes",
            "Cinema showtimes of a film in a city on a date.",
            {"movie_title": _str("Title of the film."), "city": _str("City name."), "date": _str(_DATE)},
        ),
        {"movie_title": "Dune: Part Two", "city": "Manchester", "date": "2025-03-08"},
    ),
    # --- unit conversion -------------------------------------------------------------------------
    _C(
        "How many inches are in 2.75 meters?",
        _fn(
            "convert_length",
            "Convert a length between units.",
            {
                "value": _num("The length to convert."),
                "from_unit": _enum("Unit of the value.", _LENGTH_UNITS),
                "to_unit": _enum("Unit to convert into.", _LENGTH_UNITS),
            },
        ),
        {"value": 2.75, "from_unit": "m", "to_unit": "in"},
    ),
    _C(
        "Convert minus 40 degrees Celsius to Kelvin.",
        _fn(
            "convert_temperature",
            "Convert a temperature between scales.",
            {
                "temperature": _num("The temperature to convert."),
                "from_scale": _enum("Scale of the temperature.", ["celsius", "fahrenheit", "kelvin"]),
                "to_scale": _enum("Scale to convert into.", ["celsius", "fahrenheit", "kelvin"]),
            },
        ),
        {"temperature": -40, "from_scale": "celsius", "to_scale": "kelvin"},
    ),
    _C(
        "My recipe needs three quarters of a cup of milk. How many tablespoons is that?",
        _fn(
            "convert_cooking_measure",
            "Convert a kitchen measure between units (US measures).",
            {
                "quantity": _num("Amount to convert."),
                "from_unit": _enum("Unit of the amount.", ["cup", "tablespoon", "teaspoon", "ml"]),
                "to_unit": _enum("Unit to convert into.", ["cup", "tablespoon", "teaspoon", "ml"]),
            },
        ),
        {"quantity": 0.75, "from_unit": "cup", "to_unit": "tablespoon"},
    ),
    _C(
        "How many gigabytes is 3,500 megabytes using binary (1024-based) units?",
        _fn(
            "convert_data_size",
            "Convert an amount of digital data between units.",
            {
                "value": _num("Amount of data."),
                "from_unit": _enum("Unit of the amount.", ["B", "KB", "MB", "GB", "TB"]),
                "to_unit": _enum("Unit to convert into.", ["B", "KB", "MB", "GB", "TB"]),
            },
            {"binary": _bool("Use 1024 as the step between units instead of 1000.", default=False)},
        ),
        {"value": 3500, "from_unit": "MB", "to_unit": "GB", "binary": True},
    ),
    _C(
        "My car does 6.8 litres per 100 km. What's that in US miles per gallon?",
        _fn(
            "convert_fuel_economy",
            "Convert a fuel consumption figure between conventions.",
            {
                "value": _num("The fuel economy figure."),
                "from_unit": _enum(
                    "Convention of the figure.", ["mpg_us", "mpg_uk", "l_per_100km", "km_per_l"]
                ),
                "to_unit": _enum(
                    "Convention to convert into.", ["mpg_us", "mpg_uk", "l_per_100km", "km_per_l"]
                ),
            },
        ),
        {"value": 6.8, "from_unit": "l_per_100km", "to_unit": "mpg_us"},
    ),
    # --- time zones and dates --------------------------------------------------------------------
    _C(
        "When it's 3:30 pm in New York on 2025-03-03, what time is it in Berlin?",
        _fn(
            "convert_time_between_zones",
            "Convert a local date and time from one time zone to another.",
            {
                "time": _str(_TIME),
                "date": _str(_DATE),
                "from_timezone": _str(_TZ + " Zone of the given time."),
                "to_timezone": _str(_TZ + " Zone to convert into."),
            },
        ),
        {
            "time": "15:30",
            "date": "2025-03-03",
            "from_timezone": "America/New_York",
            "to_timezone": "Europe/Berlin",
        },
    ),
    _C(
        "I have a call at 9 am Sydney time on July 14th, 2025. What time will that be for my colleague in London?",
        _fn(
            "shift_meeting_time",
            "Local time of a meeting for a participant in another time zone.",
            {
                "meeting_date": _str(_DATE),
                "meeting_time": _str(_TIME),
                "organiser_timezone": _str(_TZ + " Zone the meeting time is given in."),
                "participant_timezone": _str(_TZ + " Zone of the participant."),
            },
        ),
        {
            "meeting_date": "2025-07-14",
            "meeting_time": "09:00",
            "organiser_timezone": "Australia/Sydney",
            "participant_timezone": "Europe/London",
        },
    ),
    _C(
        "What time is it in Tokyo when it's 18:00 in São Paulo on 2025-11-20?",
        _fn(
            "local_time_elsewhere",
            "Given a local time in one zone, the local time in another.",
            {
                "source_timezone": _str(_TZ + " Zone of the known time."),
                "target_timezone": _str(_TZ + " Zone wanted."),
                "date": _str(_DATE),
                "time": _str(_TIME),
            },
        ),
        {
            "source_timezone": "America/Sao_Paulo",
            "target_timezone": "Asia/Tokyo",
            "date": "2025-11-20",
            "time": "18:00",
        },
    ),
    _C(
        "How many days are there from Christmas Day 2025 until 2026-04-05, counting both ends?",
        _fn(
            "days_between_dates",
            "Number of days between two dates.",
            {"start_date": _str(_DATE), "end_date": _str(_DATE)},
            {"include_end": _bool("Count the end date as well as the start date.", default=False)},
        ),
        {"start_date": "2025-12-25", "end_date": "2026-04-05", "include_end": True},
    ),
    # --- calendar and reminders ------------------------------------------------------------------
    _C(
        "Put 'Quarterly budget review' in my calendar on 2025-05-12 from 2 pm to 3:30 pm in Room 4B.",
        _fn(
            "create_calendar_event",
            "Add an event to the user's calendar.",
            {
                "title": _str("Title of the event."),
                "start": _str("Start as local date and time, format YYYY-MM-DDTHH:MM."),
                "end": _str("End as local date and time, format YYYY-MM-DDTHH:MM."),
            },
            {"location": _str("Where the event takes place.", default="")},
        ),
        {
            "title": "Quarterly budget review",
            "start": "2025-05-12T14:00",
            "end": "2025-05-12T15:30",
            "location": "Room 4B",
        },
    ),
    _C(
        "Remind me every week to water the plants, starting Sunday 2025-08-03 at 8 in the morning.",
        _fn(
            "set_reminder",
            "Create a reminder, once or repeating.",
            {"message": _str("What to remind the user of."), "date": _str(_DATE), "time": _str(_TIME)},
            {"repeat": _enum("How often to repeat.", ["none", "daily", "weekly", "monthly"], default="none")},
        ),
        {"message": "water the plants", "date": "2025-08-03", "time": "08:00", "repeat": "weekly"},
        "contains",
    ),
    _C(
        "Cancel calendar event EVT-20931.",
        _fn(
            "delete_calendar_event",
            "Remove an event from the calendar.",
            {"event_id": _str("Identifier of the event.")},
        ),
        {"event_id": "EVT-20931"},
    ),
    _C(
        "What's on my work calendar between 17 February and 21 February 2025?",
        _fn(
            "list_calendar_events",
            "Events in a date range.",
            {"start_date": _str(_DATE), "end_date": _str(_DATE)},
            {"calendar": _enum("Which calendar.", ["work", "personal", "all"], default="all")},
        ),
        {"start_date": "2025-02-17", "end_date": "2025-02-21", "calendar": "work"},
    ),
    # --- messages --------------------------------------------------------------------------------
    _C(
        'Text Priya: "Running ten minutes late, start without me."',
        _fn(
            "send_text_message",
            "Send an SMS to a contact from the address book.",
            {"contact_name": _str("Name of the contact."), "message": _str("Text of the message.")},
        ),
        {"contact_name": "Priya", "message": "Running ten minutes late, start without me"},
        "contains",
    ),
    _C(
        "Email marco.rossi@example.com with the subject 'Invoice 4471' and tell him the payment went out today.",
        _fn(
            "send_email",
            "Send an email.",
            {
                "to": _str("Recipient email address."),
                "subject": _str("Subject line."),
                "body": _str("Body text of the email."),
            },
            {"cc": _str("Address to copy, if any.", default="")},
        ),
        {"to": "marco.rossi@example.com", "subject": "Invoice 4471", "body": "payment"},
        "contains",
    ),
    _C(
        "Post 'Deploy finished' in the releases channel and notify everyone in it.",
        _fn(
            "post_chat_message",
            "Post a message to a team chat channel.",
            {"channel": _str("Channel name, without a leading #."), "text": _str("Message text.")},
            {"notify_channel": _bool("Alert every member of the channel.", default=False)},
        ),
        {"channel": "releases", "text": "Deploy finished", "notify_channel": True},
        "contains",
    ),
    # --- shopping --------------------------------------------------------------------------------
    _C(
        "Show me wireless headphones under $150, cheapest first.",
        _fn(
            "search_products",
            "Search the shop's catalogue.",
            {"query": _str("Search words."), "max_price": _num("Highest price in dollars.")},
            {
                "sort_by": _enum(
                    "Order of results.",
                    ["relevance", "price_low_to_high", "price_high_to_low", "rating"],
                    default="relevance",
                )
            },
        ),
        {"query": "wireless headphones", "max_price": 150, "sort_by": "price_low_to_high"},
        "contains",
    ),
    _C(
        "Where's my UPS parcel 1Z999AA10123456784?",
        _fn(
            "track_package",
            "Current status of a shipment.",
            {
                "tracking_number": _str("Tracking number of the shipment."),
                "carrier": _enum("Shipping company.", ["ups", "fedex", "dhl", "usps"]),
            },
        ),
        {"tracking_number": "1Z999AA10123456784", "carrier": "ups"},
    ),
    _C(
        "Add twelve of item SKU-88213 to my cart.",
        _fn(
            "add_to_cart",
            "Put a product in the shopping cart.",
            {"product_id": _str("Product identifier."), "quantity": _int("How many to add.")},
        ),
        {"product_id": "SKU-88213", "quantity": 12},
    ),
    # --- language --------------------------------------------------------------------------------
    _C(
        'Translate "Where is the nearest pharmacy?" into Portuguese.',
        _fn(
            "translate_text",
            "Translate text into another language.",
            {
                "text": _str("Text to translate."),
                "target_language": _str("Two-letter ISO 639-1 code of the language to translate into."),
            },
            {"source_language": _str("ISO 639-1 code of the text, or auto to detect it.", default="auto")},
        ),
        {"text": "Where is the nearest pharmacy", "target_language": "pt"},
        "contains",
    ),
    _C(
        "Which language is 'Dziękuję bardzo' written in?",
        _fn("detect_language", "Identify the language of a text.", {"text": _str("The text.")}),
        {"text": "Dziękuję bardzo"},
    ),
    # --- files -----------------------------------------------------------------------------------
    _C(
        "Call the file draft-v2.docx 'proposal.docx' from now on.",
        _fn(
            "rename_file",
            "Rename a file in the workspace.",
            {"current_name": _str("Present file name."), "new_name": _str("File name to give it.")},
        ),
        {"current_name": "draft-v2.docx", "new_name": "proposal.docx"},
    ),
    _C(
        "Copy report_q3.xlsx to archive/report_q3.xlsx, overwriting whatever is there.",
        _fn(
            "copy_file",
            "Copy a file.",
            {"source": _str("Path of the file to copy."), "destination": _str("Path of the copy.")},
            {"overwrite": _bool("Replace the destination if it exists.", default=False)},
        ),
        {"source": "report_q3.xlsx", "destination": "archive/report_q3.xlsx", "overwrite": True},
    ),
    _C(
        "Delete old_backup.zip permanently; don't just move it to the bin.",
        _fn(
            "delete_file",
            "Delete a file, to the recycle bin unless told otherwise.",
            {"path": _str("Path of the file.")},
            {"permanent": _bool("Delete for good instead of moving to the recycle bin.", default=False)},
        ),
        {"path": "old_backup.zip", "permanent": True},
    ),
    _C(
        "How big is dataset_2024.csv in megabytes?",
        _fn(
            "get_file_size",
            "Size of a file.",
            {"filename": _str("Name of the file.")},
            {"size_unit": _enum("Unit of the answer.", ["bytes", "KB", "MB", "GB"], default="bytes")},
        ),
        {"filename": "dataset_2024.csv", "size_unit": "MB"},
    ),
    _C(
        'Look for "TODO" in main.py, matching upper and lower case exactly.',
        _fn(
            "search_in_file",
            "Find the lines of a file that contain a text.",
            {"filename": _str("Name of the file."), "pattern": _str("Text to look for.")},
            {"case_sensitive": _bool("Match letter case exactly.", default=False)},
        ),
        {"filename": "main.py", "pattern": "TODO", "case_sensitive": True},
    ),
    # --- health, food, home and leisure ----------------------------------------------------------
    _C(
        "I'm 1.82 m tall and weigh 77.5 kg. What's my BMI?",
        _fn(
            "body_mass_index",
            "Body mass index.",
            {"weight_kg": _num("Weight in kilograms."), "height_m": _num("Height in metres.")},
        ),
        {"weight_kg": 77.5, "height_m": 1.82},
    ),
    _C(
        "I'm a 34-year-old woman, 165 cm and 62 kg, moderately active. How many calories do I need a day?",
        _fn(
            "daily_calorie_needs",
            "Estimated daily energy need in kilocalories.",
            {
                "age": _int("Age in years."),
                "sex": _enum("Biological sex.", ["female", "male"]),
                "weight_kg": _num("Weight in kilograms."),
                "height_cm": _num("Height in centimetres."),
                "activity_level": _enum(
                    "Usual physical activity.", ["sedentary", "light", "moderate", "active", "very_active"]
                ),
            },
        ),
        {"age": 34, "sex": "female", "weight_kg": 62, "height_cm": 165, "activity_level": "moderate"},
    ),
    _C(
        "Find vegetarian recipes with chickpeas that take at most 25 minutes.",
        _fn(
            "find_recipes",
            "Search recipes by main ingredient.",
            {"ingredient": _str("Main ingredient."), "max_prep_minutes": _int("Longest preparation time.")},
            {
                "diet": _enum(
                    "Dietary restriction.", ["none", "vegetarian", "vegan", "gluten_free"], default="none"
                )
            },
        ),
        {"ingredient": "chickpeas", "max_prep_minutes": 25, "diet": "vegetarian"},
    ),
    _C(
        "Set the living room thermostat to 21.5 degrees Celsius.",
        _fn(
            "set_thermostat",
            "Set the target temperature of a room's thermostat.",
            {
                "room": _str("Room name."),
                "temperature": _num("Target temperature."),
                "unit": _enum("Temperature unit.", ["celsius", "fahrenheit"]),
            },
        ),
        {"room": "living room", "temperature": 21.5, "unit": "celsius"},
    ),
    _C(
        'Make a public playlist called "Sunday Morning Jazz".',
        _fn(
            "create_playlist",
            "Create an empty music playlist.",
            {"name": _str("Name of the playlist.")},
            {"public": _bool("Visible to other users.", default=False)},
        ),
        {"name": "Sunday Morning Jazz", "public": True},
    ),
    _C(
        "Where did Arsenal finish in the Premier League in the 2022-23 season?",
        _fn(
            "get_league_position",
            "Final league position of a football team in a season.",
            {
                "team": _str("Team name."),
                "league": _enum("League.", ["premier_league", "la_liga", "bundesliga", "serie_a", "ligue_1"]),
                "season_start_year": _int("Calendar year in which the season began."),
            },
        ),
        {"team": "Arsenal", "league": "premier_league", "season_start_year": 2022},
    ),
    _C(
        "Give me the top five technology headlines from Germany.",
        _fn(
            "get_news_headlines",
            "Latest news headlines on a topic in a country.",
            {
                "topic": _enum("Topic.", ["business", "technology", "sports", "health", "science"]),
                "country": _str("Two-letter ISO 3166-1 country code."),
            },
            {"max_results": _int("Largest number of headlines to return.", default=10)},
        ),
        {"topic": "technology", "country": "de", "max_results": 5},
    ),
    _C(
        "Generate a 20-character password without any symbols.",
        _fn(
            "generate_password",
            "Create a random password.",
            {"length": _int("Number of characters.")},
            {"include_symbols": _bool("Use punctuation characters as well.", default=True)},
        ),
        {"length": 20, "include_symbols": False},
    ),
    _C(
        "What was the population of Nairobi in 2019?",
        _fn(
            "get_city_population",
            "Population of a city in a given year.",
            {"city": _str("City name."), "year": _int("Year.")},
        ),
        {"city": "Nairobi", "year": 2019},
    ),
    _C(
        "What's the molar mass of C6H12O6?",
        _fn(
            "molar_mass",
            "Molar mass in g/mol of a chemical compound.",
            {"formula": _str("Chemical formula of the compound.")},
        ),
        {"formula": "C6H12O6"},
    ),
]

# --- requests none of the offered functions can serve --------------------------------------------

_WEATHER = _fn("get_current_weather", "Current weather in a city.", {"city": _str("Name of the city.")})
_CALCULATE = _fn(
    "evaluate_expression",
    "Evaluate an arithmetic expression.",
    {"expression": _str("Arithmetic expression using + - * / ** and parentheses.")},
)
_EMAIL = _fn(
    "send_email_message",
    "Send an email.",
    {"to": _str("Recipient email address."), "subject": _str("Subject line."), "body": _str("Body text.")},
)
_TEXT = _fn(
    "send_sms",
    "Send an SMS to a contact.",
    {"contact_name": _str("Name of the contact."), "message": _str("Text of the message.")},
)

UNSERVICEABLE: list[HeldOutCase] = [
    _C("Book me a flight from Boston to Chicago next Tuesday.", _WEATHER, None),
    _C("Write a four-line poem about the first frost of autumn.", _CALCULATE, None),
    _C("Phone the dentist and move my appointment to Thursday.", _EMAIL, None),
    _C(
        "Open a savings account for me at my bank.",
        _fn(
            "exchange_rate",
            "Current exchange rate between two currencies.",
            {"base": _str(_CURRENCY), "quote": _str(_CURRENCY)},
        ),
        None,
    ),
    _C(
        "Order a large pepperoni pizza for delivery to my flat.",
        _fn(
            "reserve_table",
            "Reserve a table at a restaurant.",
            {
                "restaurant": _str("Restaurant name."),
                "party_size": _int("Number of people."),
                "time": _str(_TIME),
            },
        ),
        None,
    ),
    _C(
        "Sell 40 of my Apple shares at the market price.",
        _fn("share_price", "Latest price of a listed share.", {"ticker": _str("Ticker symbol.")}),
        None,
    ),
    _C(
        "Sum up this paragraph in one sentence: the committee met twice, agreed on nothing and "
        "scheduled a third meeting.",
        _fn(
            "translate",
            "Translate text into another language.",
            {"text": _str("Text to translate."), "target_language": _str("ISO 639-1 language code.")},
        ),
        None,
    ),
    _C(
        "Return the blender I ordered last week and get me a refund.",
        _fn(
            "product_search",
            "Search the shop's catalogue.",
            {"query": _str("Search words."), "max_price": _num("Highest price in dollars.")},
        ),
        None,
    ),
    _C(
        "What's on TV tonight?",
        _fn(
            "add_event",
            "Add an event to the user's calendar.",
            {"title": _str("Title."), "start": _str("Start, format YYYY-MM-DDTHH:MM.")},
        ),
        None,
    ),
    _C(
        "What is the volume of a cube with 4 cm sides?",
        _fn("area_of_circle", "Area of a circle.", {"radius": _num("Radius of the circle.")}),
        None,
    ),
    _C(
        "How tall is the Eiffel Tower?",
        _fn("route", "Route between two places.", {"origin": _str("Start."), "destination": _str("End.")}),
        None,
    ),
    _C(
        "Turn off the kitchen lights.",
        _fn(
            "thermostat_set",
            "Set a room's target temperature in degrees Celsius.",
            {"room": _str("Room name."), "temperature": _num("Target temperature.")},
        ),
        None,
    ),
    _C(
        "Print report_q3.xlsx on the office printer.",
        _fn("remove_file", "Delete a file.", {"path": _str("Path of the file.")}),
        None,
        other_functions=(
            _fn(
                "move_file",
                "Rename or move a file.",
                {"source": _str("Present path."), "destination": _str("New path.")},
            ),
        ),
    ),
    _C(
        "Send a parcel to my sister in Lyon.",
        _fn("shipment_status", "Status of a shipment.", {"tracking_number": _str("Tracking number.")}),
        None,
    ),
    _C(
        "Convert 30 miles to kilometres.",
        _fn(
            "temperature_conversion",
            "Convert a temperature between Celsius and Fahrenheit.",
            {
                "value": _num("Temperature."),
                "to_scale": _enum("Scale to convert into.", ["celsius", "fahrenheit"]),
            },
        ),
        None,
    ),
    _C(
        "Tell me a joke about programmers.",
        _fn(
            "headlines",
            "Latest news headlines on a topic.",
            {"topic": _enum("Topic.", ["business", "technology", "sports", "science"])},
        ),
        None,
    ),
    _C(
        "Reserve a table at Nobu for Saturday evening.",
        _fn("recipe_search", "Search recipes by ingredient.", {"ingredient": _str("Main ingredient.")}),
        None,
    ),
    _C(
        "Will there be an earthquake in Tokyo next week?",
        _fn("uv_index", "Today's UV index in a city.", {"city": _str("City name.")}),
        None,
        other_functions=(
            _fn("air_quality", "Today's air quality index in a city.", {"city": _str("City name.")}),
        ),
    ),
    _C(
        "Buy two tickets for the Coldplay concert in Madrid.",
        _fn(
            "new_playlist",
            "Create an empty music playlist.",
            {"name": _str("Playlist name.")},
            {"public": _bool("Visible to other users.", default=False)},
        ),
        None,
    ),
    _C(
        "Explain in simple words what a derivative is.",
        _fn(
            "quadratic_roots",
            "Real roots of a*x^2 + b*x + c = 0.",
            {"a": _num("Coefficient of x^2."), "b": _num("Coefficient of x."), "c": _num("Constant term.")},
        ),
        None,
    ),
    _C(
        "Check my credit score.",
        _fn(
            "loan_payment",
            "Monthly payment of an amortised loan.",
            {
                "principal": _num("Amount borrowed."),
                "annual_interest_percent": _num("Yearly interest rate in percent."),
                "term_years": _int("Length of the loan in years."),
            },
        ),
        None,
    ),
    _C(
        "Cancel my hotel reservation HX-5521.",
        _fn(
            "hotel_booking",
            "Reserve a hotel room.",
            {"city": _str("City."), "check_in": _str(_DATE), "check_out": _str(_DATE)},
        ),
        None,
    ),
    _C("Who won the 2018 FIFA World Cup?", _TEXT, None, other_functions=(_EMAIL,)),
    _C(
        "Make me an appointment with a nutritionist for next Monday.",
        _fn(
            "bmi",
            "Body mass index.",
            {"weight_kg": _num("Weight in kilograms."), "height_m": _num("Height in metres.")},
        ),
        None,
    ),
]


def args_match(case: HeldOutCase, args: dict[str, Any]) -> bool:
    """Whether ``args`` are the arguments ``case`` expects.

    A parameter left out counts as its schema ``default`` on either side; a parameter the schema
    does not declare, or one that is neither expected nor defaulted, makes it a mismatch.
    Numbers must be JSON numbers (a numeric string is a type error) and agree within 1e-6;
    strings compare stripped and case-folded, exactly or, with ``check="contains"``, by
    containment; lists element by element, in order. An unserviceable case matches nothing.
    """
    if case.expected is None:
        return False
    properties = case.function["function"]["parameters"]["properties"]
    if not set(args) <= set(properties):
        return False
    defaults = {name: spec["default"] for name, spec in properties.items() if "default" in spec}
    want = {**defaults, **case.expected}
    got = {**defaults, **args}
    if set(want) != set(got):
        return False
    return all(_same(want[name], got[name], case.check) for name in want)


def _same(want: Any, got: Any, check: str) -> bool:
    if isinstance(want, bool) or isinstance(got, bool):
        return isinstance(want, bool) and isinstance(got, bool) and want == got
    if isinstance(want, (int, float)):
        return isinstance(got, (int, float)) and abs(float(want) - float(got)) <= 1e-6
    if isinstance(want, str):
        if not isinstance(got, str):
            return False
        w, g = want.strip().casefold(), got.strip().casefold()
        return w in g if check == "contains" else w == g
    if isinstance(want, list):
        return (
            isinstance(got, list)
            and len(want) == len(got)
            and all(_same(w, g, check) for w, g in zip(want, got, strict=True))
        )
    return bool(want == got)
