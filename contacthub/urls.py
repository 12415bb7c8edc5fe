from django.contrib import admin
from django.urls import include, path

from accounts.views import LoginView
from contacthub.observability import health

admin.site.site_header = "Contact Hub administration"
admin.site.site_title = "Contact Hub admin"

urlpatterns = [
    path("healthz", health, name="health"),
    path("admin/", admin.site.urls),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("uploads/", include("bulkupload.urls")),
    path("v1/public/", include("contacts.api")),  # public API (Interakt-compatible)
    path("", include("contacts.urls")),
]
