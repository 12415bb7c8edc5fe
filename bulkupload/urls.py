from django.urls import path

from bulkupload import views

app_name = "bulkupload"

urlpatterns = [
    path("", views.upload_list, name="list"),
    path("new/", views.upload_new, name="new"),
    path("<int:pk>/", views.upload_job, name="job"),
    path("<int:pk>/map/", views.upload_map, name="map"),
    path("<int:pk>/map/preview/", views.upload_map_preview, name="map_preview"),
    path("<int:pk>/map/format/", views.upload_map_format, name="map_format"),
    path("<int:pk>/tags/", views.upload_tags, name="tags"),
    path("<int:pk>/review/", views.upload_review, name="review"),
    path("<int:pk>/cancel/", views.upload_cancel, name="cancel"),
    path("<int:pk>/undo/", views.upload_undo, name="undo"),
    path("<int:pk>/errors.csv", views.upload_error_report, name="errors"),
    path("tags/search/", views.tag_search, name="tag_search"),
    path("tags/new/", views.tag_new, name="tag_new"),
    path("tags/<int:tag_id>/chip/", views.tag_chip, name="tag_chip"),
]
