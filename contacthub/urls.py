from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Contact Hub administration"
admin.site.site_title = "Contact Hub admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("uploads/", include("bulkupload.urls")),
    path("", include("contacts.urls")),
]
