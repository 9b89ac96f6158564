"""Thailand's provinces, districts and sub-districts, in-process (data: `data/th_tambon.csv` and `data/population.csv`,
see `data/SOURCE.md`)."""

from hotline_gazetteer.index import PlaceIndex, PlaceKind
from hotline_gazetteer.places import Amphoe, Gazetteer, Province, Tambon, gazetteer, haversine_km
from hotline_gazetteer.province_population import population
from hotline_gazetteer.resolve import Candidate, MatchedPart, Resolution, resolve
from hotline_gazetteer.search import PlaceHit, search

__all__ = [
    "Amphoe",
    "Candidate",
    "Gazetteer",
    "MatchedPart",
    "PlaceHit",
    "PlaceIndex",
    "PlaceKind",
    "Province",
    "Resolution",
    "Tambon",
    "gazetteer",
    "haversine_km",
    "population",
    "resolve",
    "search",
]
