"""The Slack stand-in's ``views.*``: modals opened from a trigger, pushed, and updated in
place (by id or external id, with Slack's hash check); App Home views published per user."""

from __future__ import annotations

import copy
from typing import Any

from bot.demo.standins.slack.web_model import ApiError, JSONDict, check_blocks
from bot.demo.standins.slack.web_state import SlackState


class ViewsMixin(SlackState):
    def _build_view(self, view: Any, *, view_id: str, previous: JSONDict | None) -> JSONDict:
        if not isinstance(view, dict):
            raise ApiError("invalid_arguments", ["[ERROR] missing required field: view"])
        if view.get("type") not in ("modal", "home"):
            raise ApiError("invalid_arguments", ["[ERROR] must provide a valid view type"])
        check_blocks(view.get("blocks", []), 100)
        out: JSONDict = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view["type"],
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{int(self.now())}.{self._counter:08x}",
            "title": view.get("title"),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "previous_view_id": previous.get("previous_view_id") if previous else None,
            "root_view_id": previous.get("root_view_id", view_id) if previous else view_id,
            "app_id": self.app_id,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        self._counter += 1
        return out

    def _require_trigger(self, args: JSONDict) -> None:
        if not args.get("trigger_id") and not args.get("interactivity_pointer"):
            raise ApiError("invalid_arguments", ["[ERROR] missing required field: trigger_id"])

    def _views_open(self, args: JSONDict) -> JSONDict:
        self._require_trigger(args)
        view_id = self._new_id("V")
        view = self._build_view(args.get("view"), view_id=view_id, previous=None)
        self.views[view_id] = view
        return {"ok": True, "view": copy.deepcopy(view)}

    def _views_push(self, args: JSONDict) -> JSONDict:
        self._require_trigger(args)
        view_id = self._new_id("V")
        view = self._build_view(args.get("view"), view_id=view_id, previous=None)
        self.views[view_id] = view
        return {"ok": True, "view": copy.deepcopy(view)}

    def _views_update(self, args: JSONDict) -> JSONDict:
        view_id = args.get("view_id")
        if not view_id and args.get("external_id"):
            view_id = next(
                (vid for vid, v in self.views.items() if v["external_id"] == args["external_id"]),
                None,
            )
        if not view_id and not args.get("external_id"):
            raise ApiError("invalid_arguments", ["[ERROR] missing view_id or external_id"])
        if not view_id or view_id not in self.views:
            raise ApiError("not_found")
        current = self.views[view_id]
        if args.get("hash") and args["hash"] != current["hash"]:
            raise ApiError("hash_conflict")
        view = self._build_view(args.get("view"), view_id=view_id, previous=current)
        view["state"] = current["state"]
        self.views[view_id] = view
        return {"ok": True, "view": copy.deepcopy(view)}

    def _views_publish(self, args: JSONDict) -> JSONDict:
        """A user's Home tab: `user_id` must be a known user and the view of type home;
        the new view replaces the last one (with Slack's hash check when a hash is given)."""
        user_id = args.get("user_id")
        if not isinstance(user_id, str) or not user_id:
            raise ApiError("invalid_arguments", ["[ERROR] missing required field: user_id"])
        if user_id not in self.users:
            raise ApiError("user_not_found")
        view = args.get("view")
        if not isinstance(view, dict) or view.get("type") != "home":
            raise ApiError("invalid_arguments", ["[ERROR] must provide a valid view type: home"])
        current = self.home_views.get(user_id)
        if args.get("hash") and current is not None and args["hash"] != current["hash"]:
            raise ApiError("hash_conflict")
        view_id = current["id"] if current is not None else self._new_id("V")
        built = self._build_view(view, view_id=view_id, previous=None)
        self.home_views[user_id] = built
        return {"ok": True, "view": copy.deepcopy(built)}
