"""The Blueprint every endpoint of both services is declared on: flask-smorest's, with the guarded argument
parser (servicekit.guards) bound when each view is decorated."""

import flask_smorest

from .guards import GuardedParser


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = GuardedParser()
