"""Understanding citizens: intents, entities and language, built-in or through Rasa."""
