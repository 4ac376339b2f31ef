"""The one error the patch functions raise, and the upstream messages it carries.

Every invalid patch ends in `PatchError`. Its message is upstream's text (evanphx/json-patch
v4 or apimachinery's `strategicpatch`/`mergepatch`), so clients see what a real API server
says; `code` is the HTTP status upstream's patch handler answers with for that error, so the
API server can build the `Status` without knowing which patch type failed:

- 400 BadRequest: the patch body is malformed (not a list of operations, not an object, a
  `$retainKeys`/`$setElementOrder`/`$deleteFromPrimitiveList` of the wrong shape);
- 422 Invalid: a JSON patch does not apply (missing path, failed test), lists of lists;
- 500: the other strategic merge patch errors, which upstream returns as plain Go errors.
"""

from __future__ import annotations

from typing import Any

from openeks.kube.api.patch._values import go_format, go_type

BAD_REQUEST = 400
INVALID = 422
INTERNAL = 500


class PatchError(Exception):
    """A patch that cannot be applied; `message` is upstream's text, `code` its HTTP status."""

    def __init__(self, message: str, code: int = INVALID) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


# -- apimachinery/pkg/util/mergepatch sentinels ---------------------------------------------
def bad_patch_format_for_primitive_list() -> PatchError:
    return PatchError("invalid patch format of primitive list", BAD_REQUEST)


def bad_patch_format_for_retain_keys() -> PatchError:
    return PatchError("invalid patch format of retainKeys", BAD_REQUEST)


def bad_patch_format_for_set_element_order() -> PatchError:
    return PatchError("invalid patch format of setElementOrder list", BAD_REQUEST)


def no_list_of_lists() -> PatchError:
    return PatchError("lists of lists are not supported", INVALID)


def no_merge_key(item: dict[str, Any], merge_key: str) -> PatchError:
    return PatchError(
        f"map: {go_format(item)} does not contain declared merge key: {merge_key}", INTERNAL
    )


def bad_arg_type(expected: str, actual: Any) -> PatchError:
    """`expected` is a Go type name such as 'map[string]interface {}'."""
    got = "%!s(<nil>)" if actual is None else go_type(actual)
    return PatchError(f"expected a {expected}, but received a {got}", INTERNAL)


def bad_patch_type(directive: Any, item: dict[str, Any]) -> PatchError:
    shown = directive if isinstance(directive, str) else _bad_verb(directive)
    return PatchError(f"unknown patch type: {shown} in map: {go_format(item)}", INTERNAL)


def _bad_verb(value: Any) -> str:
    if value is None:
        return "%!s(<nil>)"
    return f"%!s({go_type(value)}={go_format(value)})"
