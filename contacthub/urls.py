from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts.views import LoginView
from contacthub.health import health

admin.site.site_header = "Contact Hub administration"
admin.site.site_title = "Contact Hub admin"

urlpatterns = [
    path("healthz", health, name="health"),
    path("admin/", admin.site.urls),
    path("accounts/login/", LoginView.as_view(), name="login"),
    # Only log-out and password change: staff passwords are reset by an admin, and no mail
    # server is assumed.
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password_change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("uploads/", include("bulkupload.urls")),
    path("overview/", include("overview.urls")),
    path("v1/public/", include("api.urls")),  # public API (Interakt-compatible)
    path("", include("contacts.urls")),
]
handler400 = "contacthub.errors.bad_request"
