from django.urls import URLPattern, URLResolver, path

from apps.billing.api import views

app_name = "billing"

urlpatterns: list[URLPattern | URLResolver] = [
    path("billing/plans", views.PlansView.as_view(), name="plans-list"),
    path("billing/checkout", views.CheckoutView.as_view(), name="checkout-create"),
    path("billing/portal", views.PortalView.as_view(), name="portal-create"),
    path("billing/subscription", views.SubscriptionView.as_view(), name="subscription-detail"),
    path("billing/webhooks/stripe", views.StripeWebhookView.as_view(), name="webhook-stripe"),
]
