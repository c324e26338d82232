"""Structured output: the answer is JSON that matches a pydantic schema, enforced while
decoding by a llama.cpp grammar (so even a 135M model returns valid, typed data).

Run: python examples/structured_output.py
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from toolkit import get_chat_model


class City(BaseModel):
    """Facts about a city."""

    name: str = Field(description="the city's name")
    country: str = Field(description="the country it is in")


def main() -> None:
    llm = get_chat_model(temperature=0)
    city = llm.with_structured_output(City).invoke(
        "Paris is the capital of which country? Answer about Paris."
    )
    print(repr(city))


if __name__ == "__main__":
    main()
