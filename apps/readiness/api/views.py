"""The caller's readiness (a calibrated chance of passing, or what is still needed)."""

from __future__ import annotations

from typing import cast

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import User
from apps.billing.entitlements import Entitlement, require_entitlement
from apps.core.api.schema import error_responses
from apps.readiness.api.serializers import CandidateReadinessSerializer
from apps.readiness.services.predictions import readiness_for


class ReadinessView(APIView):
    @extend_schema(
        tags=["analytics"],
        summary="Readiness: predicted marks per paper and the chance of passing Part A",
        description=(
            "From a Rasch model calibrated nightly on first attempts: ability with its standard "
            "error, per paper the predicted percentage on a blueprint-weighted paper with an 80% "
            "interval and the chance of clearing the paper's minimum, the combined prediction and "
            "the probability of passing (combined mark and every paper's minimum), the unseen-only "
            "score and a percentile among candidates sitting in the same month (null below the "
            "minimum cohort). With too little data `status` is `insufficient_data` and `needed` "
            "says what is missing; `papers` is then empty. With billing on, it needs the "
            "`readiness` entitlement (403 `entitlement_required`). Method: docs/readiness.md."
        ),
        responses={200: CandidateReadinessSerializer, **error_responses(401, 403)},
    )
    def get(self, request: Request) -> Response:
        require_entitlement(request.user, Entitlement.READINESS)  # always held with billing off
        return Response(readiness_for(user=cast(User, request.user)))
