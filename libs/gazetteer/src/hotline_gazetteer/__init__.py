"""Thailand's provinces, districts and sub-districts, in-process (data: `data/th_tambon.csv`, see `data/SOURCE.md`)."""

from hotline_gazetteer.places import Gazetteer, Tambon, gazetteer, haversine_km

__all__ = ["Gazetteer", "Tambon", "gazetteer", "haversine_km"]
