from django.urls import path

from contacts.views import contact_detail, contact_list

app_name = "contacts"

urlpatterns = [
    path("", contact_list.contact_list, name="list"),
    path("contacts/<int:pk>/", contact_detail.contact_detail, name="detail"),
]
