"""S3Client's presigning of any operation and of browser form uploads (``S3Client`` inherits it).

Nothing is sent: the signing time comes from the client's clock (with any skew correction
it learned), the rest from ``rawS3.presigning`` and ``rawS3.post_policy``, both pure.
"""

from __future__ import annotations

from collections.abc import Mapping

from rawS3 import presigning
from rawS3.multipart_calls import Facade
from rawS3.post_policy import PresignedPost, presign_post
from rawS3.urls import build_url
from rawS3.validation import check_bucket, check_expires, check_key

__all__ = ["PresignCalls"]


class PresignCalls(Facade):
    """Presigned URLs for any method and operation, and presigned POST forms."""

    def presign(
        self,
        method: str,
        bucket: str,
        key: str | None = None,
        *,
        expires: int = 3600,
        version_id: str | None = None,
        upload_id: str | None = None,
        part_number: int | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | None] | None = None,
        response_cache_control: str | None = None,
        response_content_disposition: str | None = None,
        response_content_encoding: str | None = None,
        response_content_language: str | None = None,
        response_content_type: str | None = None,
        response_expires: str | None = None,
    ) -> str:
        """Return a URL that performs one operation for whoever holds it, for ``expires`` seconds.

        No request is sent. The URL is already encoded: with aiohttp, pass it as
        ``yarl.URL(url, encoded=True)``. The body of a PUT or POST is not signed
        (``UNSIGNED-PAYLOAD``): the URL is made before the body exists.

        Args:
            method: ``"GET"``, ``"PUT"``, ``"HEAD"``, ``"DELETE"`` or ``"POST"``.
            bucket: the bucket.
            key: the object's key; ``None`` for a bucket-level operation (e.g. a listing,
                with ``query``).
            expires: the URL's validity in seconds, 1 to 604800.
            version_id: one version of the object (GET, HEAD, DELETE).
            upload_id: a multipart upload: UploadPart (PUT, with ``part_number``),
                CompleteMultipartUpload (POST), AbortMultipartUpload (DELETE), ListParts (GET).
            part_number: 1 to 10,000: the part an UploadPart URL uploads (PUT, with
                ``upload_id``), or the part of a multipart object to GET or HEAD.
            headers: headers the URL's user must send, exactly: they are signed, and a
                request without them (or with other values) is refused.
            query: further query parameters (``None`` values are sent as ``name=``), e.g.
                ``{"uploads": None}`` with POST for CreateMultipartUpload.
            response_cache_control: GET only: the answer's ``Cache-Control``.
            response_content_disposition: GET only: the answer's ``Content-Disposition``.
            response_content_encoding: GET only: the answer's ``Content-Encoding``.
            response_content_language: GET only: the answer's ``Content-Language``.
            response_content_type: GET only: the answer's ``Content-Type``.
            response_expires: GET only: the answer's ``Expires`` (an HTTP date).

        Returns:
            The presigned URL.

        Raises:
            TypeError, ValueError: a bad method, bucket, key, ``expires``, header or query
                parameter, or an option without what it needs (``version_id`` without a
                key, ``part_number`` on PUT without ``upload_id`` or on DELETE or POST,
                a ``response_*`` override on another method than GET).
            CredentialsError: the client's provider has no current credentials yet
                (presigning does not fetch: ``await client.fetch_credentials()`` first).
        """
        presigning.check_method(method)
        check_bucket(bucket)
        if key is not None:
            check_key(key)
        check_expires(expires)
        overrides = {
            "response_cache_control": response_cache_control,
            "response_content_disposition": response_content_disposition,
            "response_content_encoding": response_content_encoding,
            "response_content_language": response_content_language,
            "response_content_type": response_content_type,
            "response_expires": response_expires,
        }
        pairs = presigning.presign_query(
            method,
            key=key,
            version_id=version_id,
            upload_id=upload_id,
            part_number=part_number,
            overrides=overrides,
            query=query,
        )
        signed = presigning.check_presign_headers(headers)
        s = self._settings
        url = build_url(s.endpoint, bucket, key, pairs, addressing=s.addressing)
        return presigning.presign_with_headers(
            method,
            url,
            signed,
            credentials=self._signing_credentials(),
            region=s.region,
            now=self._clock.now(),
            expires=expires,
        )

    def presign_post(
        self,
        bucket: str,
        key: str | None = None,
        *,
        key_prefix: str | None = None,
        expires: int = 3600,
        content_length_range: tuple[int, int] | None = None,
        content_type: str | None = None,
        success_action_status: int | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> PresignedPost:
        """Return the URL and form fields of a browser upload (an HTML form posting a file).

        No request is sent. The fields carry a policy, signed with SigV4, that the server
        checks the posted form against: a file outside ``content_length_range``, another key
        or content type, or a form posted after ``expires`` seconds is refused. Post the
        fields in order as ``multipart/form-data``, then the file as the last field,
        named ``file``.

        Args:
            bucket: the bucket.
            key: the one key the form may write; exclusive with ``key_prefix``.
            key_prefix: the form may write any key starting with this; its ``key`` field is
                ``prefix + "${filename}"`` (S3 puts the file's name there), and may be set
                to any key with the prefix.
            expires: the policy's validity in seconds, 1 to 604800.
            content_length_range: ``(minimum, maximum)`` size of the file in bytes, inclusive.
            content_type: the ``Content-Type`` field the form must carry.
            success_action_status: ``200``, ``201`` (an XML answer naming the object) or
                ``204`` (S3's default).
            metadata: user metadata the form must carry exactly (``x-amz-meta-*`` fields).

        Returns:
            The URL to post to and the fields, as a frozen ``PresignedPost``.

        Raises:
            TypeError, ValueError: bad arguments, e.g. both or neither of ``key`` and
                ``key_prefix``, or a range that is not ``0 <= minimum <= maximum <= 5 GiB``.
            CredentialsError: the client's provider has no current credentials yet
                (``await client.fetch_credentials()`` first).
        """
        s = self._settings
        return presign_post(
            build_url(s.endpoint, check_bucket(bucket), addressing=s.addressing),
            bucket,
            key=key,
            key_prefix=key_prefix,
            credentials=self._signing_credentials(),
            region=s.region,
            now=self._clock.now(),
            expires=expires,
            content_length_range=content_length_range,
            content_type=content_type,
            success_action_status=success_action_status,
            metadata=metadata,
        )
