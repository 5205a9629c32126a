"""The Slack stand-in's file upload, in Slack's three steps: ``files.getUploadURLExternal``,
a POST of the bytes to the upload URL, then ``files.completeUploadExternal`` shares it."""

from __future__ import annotations

import copy
import mimetypes

from bot.demo.standins.slack.web_model import ApiError, FakeFile, JSONDict, str_list
from bot.demo.standins.slack.web_state import SlackState


class FilesMixin(SlackState):
    def _files_get_upload_url_external(self, args: JSONDict) -> JSONDict:
        filename = args.get("filename")
        length = args.get("length")
        if not filename or length in (None, ""):
            raise ApiError("invalid_arguments", ["[ERROR] missing required field: filename"])
        try:
            size = int(length)
        except (TypeError, ValueError) as exc:
            raise ApiError("invalid_arguments", ["[ERROR] length must be an integer"]) from exc
        file_id = self._new_id("F")
        self.files[file_id] = FakeFile(
            id=file_id,
            filename=str(filename),
            length=size,
            alt_txt=args.get("alt_txt"),
            snippet_type=args.get("snippet_type"),
            created=int(self.now()),
        )
        return {"ok": True, "upload_url": f"{self.base_url}upload/{file_id}", "file_id": file_id}

    def _file_object(self, file: FakeFile) -> JSONDict:
        mimetype = mimetypes.guess_type(file.filename)[0] or "application/octet-stream"
        filetype = file.filename.rsplit(".", 1)[-1].lower() if "." in file.filename else "binary"
        base = f"https://files.slack.com/files-pri/{self.team_id}-{file.id}"
        return {
            "id": file.id,
            "created": file.created,
            "timestamp": file.created,
            "name": file.filename,
            "title": file.title or file.filename,
            "mimetype": mimetype,
            "filetype": filetype,
            "pretty_type": filetype.upper(),
            "user": self.bot_user_id,
            "user_team": self.team_id,
            "editable": False,
            "size": len(file.content or b""),
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": bool(file.channels),
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": f"{base}/{file.filename}",
            "url_private_download": f"{base}/download/{file.filename}",
            "permalink": f"https://{self.domain}.slack.com/files/{self.bot_user_id}/{file.id}/{file.filename}",
            "comments_count": 0,
            "is_starred": False,
            "channels": list(file.channels),
            "groups": [],
            "ims": [],
            "has_more_shares": False,
            "has_rich_preview": False,
            "file_access": "visible",
            "alt_txt": file.alt_txt,
        }

    def _files_complete_upload_external(self, args: JSONDict) -> JSONDict:
        entries = args.get("files")
        if not isinstance(entries, list) or not entries:
            raise ApiError("invalid_arguments", ["[ERROR] missing required field: files"])
        channels = str_list(args.get("channels"))
        if args.get("channel_id"):
            channels = [str(args["channel_id"]), *channels]
        channels = [self._resolve_channel(c) for c in channels]
        thread_ts = args.get("thread_ts")
        if thread_ts and len(channels) != 1:
            raise ApiError("invalid_arguments", ["[ERROR] thread_ts needs exactly one channel"])
        picked: list[FakeFile] = []
        for entry in entries:
            file = self.files.get(str(entry.get("id"))) if isinstance(entry, dict) else None
            if file is None or not file.uploaded:
                raise ApiError("file_not_found")
            picked.append(file)
        for file, entry in zip(picked, entries, strict=True):
            file.title = entry.get("title") or file.filename
            file.completed = True
            file.channels = list(channels)
            file.initial_comment = args.get("initial_comment")
        objects = [self._file_object(f) for f in picked]
        for channel_id in channels:
            parent = self._parent_of(channel_id, thread_ts)
            ts = self.next_ts()
            message: JSONDict = {
                "type": "message",
                "text": str(args.get("initial_comment") or ""),
                "files": copy.deepcopy(objects),
                "upload": True,
                "user": self.bot_user_id,
                "bot_id": self.bot_id,
                "app_id": self.app_id,
                "display_as_bot": False,
                "ts": ts,
                "team": self.team_id,
            }
            if parent is not None:
                message["thread_ts"] = parent
                for file in picked:
                    file.thread_ts = parent
            self._store(channel_id, message)
        return {"ok": True, "files": objects}
