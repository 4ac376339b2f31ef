"""Strategic merge patch: upstream's apply cases, then the same rules on real Kubernetes schemas.

The first half ports the "apply" direction of apimachinery's `strategicpatch/patch_test.go`:
each case's two-way patch applied to `original` gives `modified` (or `twoWayResult`), and
its three-way patch applied to `current` gives `result`, against a schema equivalent to
upstream's `MergeItem` test struct. Results are compared exactly, list order included.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from openeks.kube.api.patch import PatchError, strategic_merge_patch
from openeks.kube.api.schema import Definitions, Node, definitions

_ITEM = {"$ref": "#/definitions/mergeItem"}
MERGE_ITEM: Node = Definitions(
    {
        "mergeItem": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "value": {"type": "string"},
                "other": {"type": "string"},
                "mergingList": {
                    "type": "array",
                    "items": _ITEM,
                    "x-kubernetes-patch-strategy": "merge",
                    "x-kubernetes-patch-merge-key": "name",
                },
                "nonMergingList": {"type": "array", "items": _ITEM},
                "mergingIntList": {
                    "type": "array",
                    "items": {"type": "integer"},
                    "x-kubernetes-patch-strategy": "merge",
                },
                "nonMergingIntList": {"type": "array", "items": {"type": "integer"}},
                "mergeItemPtr": {
                    "type": "array",
                    "items": _ITEM,
                    "x-kubernetes-patch-strategy": "merge",
                    "x-kubernetes-patch-merge-key": "name",
                },
                "simpleMap": {"type": "object", "additionalProperties": {"type": "string"}},
                "replacingItem": {
                    "type": "object",
                    "x-kubernetes-preserve-unknown-fields": True,
                    "x-kubernetes-patch-strategy": "replace",
                },
                "retainKeysMap": {
                    "$ref": "#/definitions/retainKeysMergeItem",
                    "x-kubernetes-patch-strategy": "retainKeys",
                },
                "retainKeysMergingList": {
                    "type": "array",
                    "items": _ITEM,
                    "x-kubernetes-patch-strategy": "merge,retainKeys",
                    "x-kubernetes-patch-merge-key": "name",
                },
            },
        },
        "retainKeysMergeItem": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "value": {"type": "string"},
                "other": {"type": "string"},
                "simpleMap": {"type": "object", "additionalProperties": {"type": "string"}},
                "mergingIntList": {
                    "type": "array",
                    "items": {"type": "integer"},
                    "x-kubernetes-patch-strategy": "merge",
                },
                "mergingList": {
                    "type": "array",
                    "items": _ITEM,
                    "x-kubernetes-patch-strategy": "merge",
                    "x-kubernetes-patch-merge-key": "name",
                },
                "nonMergingList": {"type": "array", "items": _ITEM},
            },
        },
    }
).named("mergeItem")

UPSTREAM_CASES = yaml.safe_load(
    r"""
# -- customStrategicMergePatchTestCaseData -------------------------------------------------
- description: unique scalars when merging lists
  original: {mergingIntList: [1, 2]}
  twoWay: {mergingIntList: [2, 3]}
  modified: {mergingIntList: [1, 2, 3]}
- description: delete map from nested map
  original: {simpleMap: {key1: 1, key2: 1}}
  twoWay: {simpleMap: {$patch: delete}}
  modified: {simpleMap: {}}
- description: delete all items from merging list
  original: {mergingList: [{name: 1}, {name: 2}]}
  twoWay: {mergingList: [{$patch: replace}]}
  modified: {mergingList: []}
- description: merge empty merging lists
  original: {mergingList: []}
  twoWay: {mergingList: []}
  modified: {mergingList: []}
- description: delete all keys from map
  original: {name: 1, value: 1}
  twoWay: {$patch: replace}
  modified: {}
- description: add key and delete all keys from map
  original: {name: 1, value: 1}
  twoWay: {other: a, $patch: replace}
  modified: {other: a}
- description: delete all duplicate entries in a merging list
  original: {mergingList: [{name: 1}, {name: 1}, {name: 2, value: a}, {name: 3}, {name: 3}]}
  twoWay:
    mergingList:
      [{name: 1, $patch: delete}, {name: 1, $patch: delete},
       {name: 3, $patch: delete}, {name: 3, $patch: delete}]
  modified: {mergingList: [{name: 2, value: a}]}
- description: retainKeys map can add a field when no retainKeys directive present
  original: {retainKeysMap: {name: foo}}
  twoWay: {retainKeysMap: {value: bar}}
  modified: {retainKeysMap: {name: foo, value: bar}}
- description: retainKeys map can change a field when no retainKeys directive present
  original: {retainKeysMap: {name: foo, value: a}}
  twoWay: {retainKeysMap: {value: b}}
  modified: {retainKeysMap: {name: foo, value: b}}
- description: retainKeys map can delete a field when no retainKeys directive present
  original: {retainKeysMap: {name: foo, value: a}}
  twoWay: {retainKeysMap: {value: null}}
  modified: {retainKeysMap: {name: foo}}
- description: retainKeys map merge an empty map
  original: {retainKeysMap: {name: foo, value: a}}
  twoWay: {retainKeysMap: {}}
  modified: {retainKeysMap: {name: foo, value: a}}
- description: retainKeys list can add a field when no retainKeys directive present
  original: {retainKeysMergingList: [{name: bar}, {name: foo}]}
  twoWay: {retainKeysMergingList: [{name: foo, value: a}]}
  modified: {retainKeysMergingList: [{name: bar}, {name: foo, value: a}]}
- description: retainKeys list can change a field when no retainKeys directive present
  original: {retainKeysMergingList: [{name: bar}, {name: foo, value: a}]}
  twoWay: {retainKeysMergingList: [{name: foo, value: b}]}
  modified: {retainKeysMergingList: [{name: bar}, {name: foo, value: b}]}
- description: retainKeys list can delete a field when no retainKeys directive present
  original: {retainKeysMergingList: [{name: bar}, {name: foo, value: a}]}
  twoWay: {retainKeysMergingList: [{name: foo, value: null}]}
  modified: {retainKeysMergingList: [{name: bar}, {name: foo}]}
- description: preserve the order from the patch in a merging list
  original: {mergingList: [{name: 1}, {name: 2, value: b}, {name: 3}]}
  twoWay: {mergingList: [{name: 3, value: c}, {name: 1, value: a}, {name: 2, other: x}]}
  modified:
    mergingList: [{name: 3, value: c}, {name: 1, value: a}, {name: 2, value: b, other: x}]
- description: preserve the order from the patch in a merging list 2
  original: {mergingList: [{name: 1}, {name: 2, value: b}, {name: 3}]}
  twoWay: {mergingList: [{name: 3, value: c}, {name: 1, value: a}]}
  modified: {mergingList: [{name: 2, value: b}, {name: 3, value: c}, {name: 1, value: a}]}
- description: preserve the order from the patch in a merging int list
  original: {mergingIntList: [1, 2, 3]}
  twoWay: {mergingIntList: [3, 1, 2]}
  modified: {mergingIntList: [3, 1, 2]}
- description: preserve the order from the patch in a merging int list 2
  original: {mergingIntList: [1, 2, 3]}
  twoWay: {mergingIntList: [3, 1]}
  modified: {mergingIntList: [2, 3, 1]}
- description: $setElementOrder contains item that is not present in the list to be merged
  original: {mergingList: [{name: 1}, {name: 3}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 3}, {name: 2}, {name: 1}]
    mergingList: [{name: 3, value: 3}, {name: 1, value: 1}]
  modified: {mergingList: [{name: 3, value: 3}, {name: 1, value: 1}]}
- description: $setElementOrder contains item that is not present in the int list to be merged
  original: {mergingIntList: [1, 3]}
  twoWay: {$setElementOrder/mergingIntList: [3, 2, 1]}
  modified: {mergingIntList: [3, 1]}
- description: should check if order in $setElementOrder and patch list match
  original: {mergingList: [{name: 1}, {name: 3}, {name: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}, {name: 3}]
    mergingList: [{name: 3, value: 3}, {name: 1, value: 1}]
  error: doesn't match
- description: should check if order in $setElementOrder and patch int list match
  original: {mergingIntList: [1, 3, 2]}
  twoWay: {$setElementOrder/mergingIntList: [1, 2, 3], mergingIntList: [3, 1]}
  error: doesn't match
- description: missing merge key should error out
  original: {mergingList: [{name: 1, value: a}]}
  twoWay: {mergingList: [{value: b}]}
  error: does not contain declared merge key
# -- createStrategicMergePatchTestCaseData -------------------------------------------------
- description: nil original
  twoWay: {name: 1, value: 1}
  modified: {name: 1, value: 1}
  current: {name: 1, other: a}
  threeWay: {value: 1}
  result: {name: 1, value: 1, other: a}
- description: nil patch
  original: {name: 1}
  twoWay: {}
  modified: {name: 1}
  current: {name: 1}
  threeWay: {}
  result: {name: 1}
- description: add field to map with conflict
  original: {name: 1}
  twoWay: {value: 1}
  modified: {name: 1, value: 1}
  current: {name: a, other: a}
  threeWay: {name: 1, value: 1}
  result: {name: 1, value: 1, other: a}
- description: add field and delete field from map
  original: {name: 1}
  twoWay: {name: null, value: 1}
  modified: {value: 1}
  current: {name: 1, other: a}
  threeWay: {name: null, value: 1}
  result: {value: 1, other: a}
- description: delete field from nested map with conflict
  original: {simpleMap: {key1: 1, key2: 1}}
  twoWay: {simpleMap: {key2: null}}
  modified: {simpleMap: {key1: 1}}
  current: {simpleMap: {key1: a, key2: 1, other: a}}
  threeWay: {simpleMap: {key1: 1, key2: null}}
  result: {simpleMap: {key1: 1, other: a}}
- description: add field and delete all fields from map with conflict
  original: {name: 1, value: 1}
  twoWay: {name: null, value: null, other: a}
  modified: {other: a}
  current: {name: 1, value: 1, other: b}
  threeWay: {name: null, value: null, other: a}
  result: {other: a}
- description: replace list of scalars with conflict
  original: {nonMergingIntList: [1, 2]}
  twoWay: {nonMergingIntList: [2, 3]}
  modified: {nonMergingIntList: [2, 3]}
  current: {nonMergingIntList: [1, 4]}
  threeWay: {nonMergingIntList: [2, 3]}
  result: {nonMergingIntList: [2, 3]}
- description: delete all maps from merging list with conflict
  original: {mergingList: [{name: 1}, {name: 2}]}
  twoWay: &deleteBoth {mergingList: [{name: 1, $patch: delete}, {name: 2, $patch: delete}]}
  modified: {mergingList: []}
  current: {mergingList: [{name: 1, other: a}, {name: 2, other: b}]}
  threeWay: *deleteBoth
  result: {mergingList: []}
- description: delete all maps from empty merging list
  original: {mergingList: [{name: 1}, {name: 2}]}
  twoWay: *deleteBoth
  modified: {mergingList: []}
  current: {mergingList: []}
  threeWay: *deleteBoth
  result: {mergingList: []}
- description: defined null values should propagate overwrite current fields (with conflict)
  original: {name: 2}
  twoWay: {name: 1, value: 1, other: null}
  twoWayResult: {name: 1, value: 1}
  current: {name: a, other: a}
  threeWay: {name: 1, value: 1, other: null}
  result: {name: 1, value: 1}
- description: defined null values should propagate removing original fields
  original: {name: original-name, value: original-value}
  twoWay: {name: modified-name, value: null}
  twoWayResult: {name: modified-name}
  current: {name: original-name, value: original-value, other: current-other}
  threeWay: {name: modified-name, value: null}
  result: {name: modified-name, other: current-other}
- description: retainKeys map with no change should not be present
  original: {name: a, retainKeysMap: {name: foo}}
  twoWay: {value: b}
  modified: {name: a, value: b, retainKeysMap: {name: foo}}
  current: {name: a, other: c, retainKeysMap: {name: foo}}
  threeWay: {value: b}
  result: {name: a, value: b, other: c, retainKeysMap: {name: foo}}
# -- strategicMergePatchRawTestCases -------------------------------------------------------
- description: delete items in lists of scalars
  original: {mergingIntList: [1, 2, 3]}
  twoWay: &del3
    {$setElementOrder/mergingIntList: [1, 2], $deleteFromPrimitiveList/mergingIntList: [3]}
  modified: {mergingIntList: [1, 2]}
  current: {mergingIntList: [1, 2, 3, 4]}
  threeWay: *del3
  result: {mergingIntList: [1, 2, 4]}
- description: delete all duplicate items in lists of scalars
  original: {mergingIntList: [1, 2, 3, 3]}
  twoWay: *del3
  modified: {mergingIntList: [1, 2]}
  current: {mergingIntList: [1, 2, 3, 3, 4]}
  threeWay: *del3
  result: {mergingIntList: [1, 2, 4]}
- description: add and delete items in lists of scalars
  original: {mergingIntList: [1, 2, 3]}
  twoWay:
    $setElementOrder/mergingIntList: [1, 2, 4]
    $deleteFromPrimitiveList/mergingIntList: [3]
    mergingIntList: [4]
  modified: {mergingIntList: [1, 2, 4]}
  current: {mergingIntList: [1, 2, 3, 4]}
  threeWay:
    {$setElementOrder/mergingIntList: [1, 2, 4], $deleteFromPrimitiveList/mergingIntList: [3]}
  result: {mergingIntList: [1, 2, 4]}
- description: merge lists of maps
  original: {mergingList: [{name: 1}, {name: 2, value: 2}]}
  twoWay: &mergeMaps
    $setElementOrder/mergingList: [{name: 4}, {name: 1}, {name: 2}, {name: 3}]
    mergingList: [{name: 4, value: 4}, {name: 3, value: 3}]
  modified:
    mergingList: [{name: 4, value: 4}, {name: 1}, {name: 2, value: 2}, {name: 3, value: 3}]
  current: {mergingList: [{name: 1, other: a}, {name: 2, value: 2, other: b}]}
  threeWay: *mergeMaps
  result:
    mergingList:
      [{name: 4, value: 4}, {name: 1, other: a}, {name: 2, value: 2, other: b},
       {name: 3, value: 3}]
- description: merge lists of maps with conflict
  original: {mergingList: [{name: 1}, {name: 2, value: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}, {name: 3}]
    mergingList: [{name: 3, value: 3}]
  modified: {mergingList: [{name: 1}, {name: 2, value: 2}, {name: 3, value: 3}]}
  current: {mergingList: [{name: 1, other: a}, {name: 2, value: 3, other: b}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}, {name: 3}]
    mergingList: [{name: 2, value: 2}, {name: 3, value: 3}]
  result: {mergingList: [{name: 1, other: a}, {name: 2, value: 2, other: b}, {name: 3, value: 3}]}
- description: add field to map in merging list with conflict
  original: {mergingList: [{name: 1}, {name: 2, value: 2}]}
  twoWay: {$setElementOrder/mergingList: [{name: 1}, {name: 2}], mergingList: [{name: 1, value: 1}]}
  modified: {mergingList: [{name: 1, value: 1}, {name: 2, value: 2}]}
  current: {mergingList: [{name: 1, other: a}, {name: 3, value: 2, other: b}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList: [{name: 1, value: 1}, {name: 2, value: 2}]
  result:
    mergingList:
      [{name: 1, value: 1, other: a}, {name: 2, value: 2}, {name: 3, value: 2, other: b}]
- description: add duplicate field to map in merging list
  original: {mergingList: [{name: 1}, {name: 2, value: 2}]}
  twoWay: {$setElementOrder/mergingList: [{name: 1}, {name: 2}], mergingList: [{name: 1, value: 1}]}
  modified: {mergingList: [{name: 1, value: 1}, {name: 2, value: 2}]}
  current: {mergingList: [{name: 1, value: 1, other: a}, {name: 2, value: 2, other: b}]}
  threeWay: {}
  result: {mergingList: [{name: 1, value: 1, other: a}, {name: 2, value: 2, other: b}]}
- description: delete duplicate field in merging list
  original: {mergingList: [{name: 1}, {name: 1}]}
  twoWay: {mergingList: {}}
  modified: {mergingList: {}}
  current: {mergingList: [{name: 1}, {name: 1}]}
  threeWay: {mergingList: {}}
  result: {mergingList: {}}
- description: add an item that already exists in current object in merging list
  original: {mergingList: [{name: 1, value: a}, {name: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}, {name: 3}]
    mergingList: [{name: 3}]
  modified: {mergingList: [{name: 1, value: a}, {name: 2}, {name: 3}]}
  current: {mergingList: [{name: 1, value: a, other: x}, {name: 2}, {name: 3}]}
  threeWay: {}
  result: {mergingList: [{name: 1, value: a, other: x}, {name: 2}, {name: 3}]}
- description: replace map field value in merging list with conflict
  original: {mergingList: [{name: 1, value: 1}, {name: 2, value: 2}]}
  twoWay: &valueA
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList: [{name: 1, value: a}]
  modified: {mergingList: [{name: 1, value: a}, {name: 2, value: 2}]}
  current: {mergingList: [{name: 1, value: 3, other: a}, {name: 2, value: 2, other: b}]}
  threeWay: *valueA
  result: {mergingList: [{name: 1, value: a, other: a}, {name: 2, value: 2, other: b}]}
- description: delete map from merging list
  original: {mergingList: [{name: 1}, {name: 2}]}
  twoWay: &delete1
    $setElementOrder/mergingList: [{name: 2}]
    mergingList: [{name: 1, $patch: delete}]
  modified: {mergingList: [{name: 2}]}
  current: {mergingList: [{name: 1}, {name: 2, other: b}]}
  threeWay: *delete1
  result: {mergingList: [{name: 2, other: b}]}
- description: delete missing map from merging list
  original: {mergingList: [{name: 1}, {name: 2}]}
  twoWay: *delete1
  modified: {mergingList: [{name: 2}]}
  current: {mergingList: [{name: 2, other: b}]}
  threeWay: *delete1
  result: {mergingList: [{name: 2, other: b}]}
- description: delete missing map from merging list with conflict
  original: {mergingList: [{name: 1}, {name: 2}]}
  twoWay: *delete1
  modified: {mergingList: [{name: 2}]}
  current: {mergingList: [{name: 3, other: a}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 2}]
    mergingList: [{name: 2}, {name: 1, $patch: delete}]
  result: {mergingList: [{name: 2}, {name: 3, other: a}]}
- description: add map and delete map from merging list
  original: {mergingList: [{name: 1}, {name: 2}]}
  twoWay: &add3delete1
    $setElementOrder/mergingList: [{name: 2}, {name: 3}]
    mergingList: [{name: 3}, {name: 1, $patch: delete}]
  modified: {mergingList: [{name: 2}, {name: 3}]}
  current: {mergingList: [{name: 1}, {name: 2, other: b}, {name: 4, other: c}]}
  threeWay: *add3delete1
  result: {mergingList: [{name: 2, other: b}, {name: 4, other: c}, {name: 3}]}
- description: add map and delete map from merging list with conflict
  original: {mergingList: [{name: 1}, {name: 2}]}
  twoWay: *add3delete1
  modified: {mergingList: [{name: 2}, {name: 3}]}
  current: {mergingList: [{name: 1, other: a}, {name: 4, other: c}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 2}, {name: 3}]
    mergingList: [{name: 2}, {name: 3}, {name: 1, $patch: delete}]
  result: {mergingList: [{name: 4, other: c}, {name: 2}, {name: 3}]}
- description: delete field from map in merging list
  original: {mergingList: [{name: 1, value: 1}, {name: 2, value: 2}]}
  twoWay: &nullValue
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList: [{name: 1, value: null}]
  modified: {mergingList: [{name: 1}, {name: 2, value: 2}]}
  current: {mergingList: [{name: 1, value: 1, other: a}, {name: 2, value: 2, other: b}]}
  threeWay: *nullValue
  result: {mergingList: [{name: 1, other: a}, {name: 2, value: 2, other: b}]}
- description: delete missing field from map in merging list with conflict
  original: {mergingList: [{name: 1, value: 1}, {name: 2, value: 2}]}
  twoWay: *nullValue
  modified: {mergingList: [{name: 1}, {name: 2, value: 2}]}
  current: {mergingList: [{name: 1, other: a}, {name: 2, other: b}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList: [{name: 1, value: null}, {name: 2, value: 2}]
  result: {mergingList: [{name: 1, other: a}, {name: 2, value: 2, other: b}]}
- description: replace non merging list nested in merging list with deletion conflict
  original: {mergingList: [{name: 1, nonMergingList: [{name: 1}, {name: 2, value: 2}]}, {name: 2}]}
  twoWay: &nonMerging
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList: [{name: 1, nonMergingList: [{name: 1, value: 1}]}]
  modified: {mergingList: [{name: 1, nonMergingList: [{name: 1, value: 1}]}, {name: 2}]}
  current:
    mergingList:
      [{name: 1, other: a, nonMergingList: [{name: 2, value: 2}]}, {name: 2, other: b}]
  threeWay: *nonMerging
  result:
    mergingList:
      [{name: 1, other: a, nonMergingList: [{name: 1, value: 1}]}, {name: 2, other: b}]
- description: add field to map in merging list nested in merging list with value conflict
  original: {mergingList: [{name: 1, mergingList: [{name: 1}, {name: 2, value: 2}]}, {name: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList:
      - {$setElementOrder/mergingList: [{name: 1}, {name: 2}], name: 1,
         mergingList: [{name: 1, value: 1}]}
  modified:
    mergingList: [{name: 1, mergingList: [{name: 1, value: 1}, {name: 2, value: 2}]}, {name: 2}]
  current:
    mergingList:
      - {name: 1, other: a,
         mergingList: [{name: 1, value: a, other: c}, {name: 2, value: b, other: d}]}
      - {name: 2, other: b}
  threeWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList:
      - {$setElementOrder/mergingList: [{name: 1}, {name: 2}], name: 1,
         mergingList: [{name: 1, value: 1}, {name: 2, value: 2}]}
  result:
    mergingList:
      - {name: 1, other: a,
         mergingList: [{name: 1, value: 1, other: c}, {name: 2, value: 2, other: d}]}
      - {name: 2, other: b}
- description: add field to map in merging list nested in merging list with deletion conflict
  original: {mergingList: [{name: 1, mergingList: [{name: 1}, {name: 2, value: 2}]}, {name: 2}]}
  twoWay: &nestedReorder
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList:
      - {$setElementOrder/mergingList: [{name: 2}, {name: 1}], name: 1,
         mergingList: [{name: 1, value: 1}]}
  modified:
    mergingList: [{name: 1, mergingList: [{name: 2, value: 2}, {name: 1, value: 1}]}, {name: 2}]
  current:
    mergingList:
      [{name: 1, other: a, mergingList: [{name: 2, value: 2, other: d}]}, {name: 2, other: b}]
  threeWay: *nestedReorder
  result:
    mergingList:
      - {name: 1, other: a, mergingList: [{name: 2, value: 2, other: d}, {name: 1, value: 1}]}
      - {name: 2, other: b}
- description: add map to merging list by pointer with conflict
  original: {mergeItemPtr: [{name: 1}]}
  twoWay: {$setElementOrder/mergeItemPtr: [{name: 1}, {name: 2}], mergeItemPtr: [{name: 2}]}
  modified: {mergeItemPtr: [{name: 1}, {name: 2}]}
  current: {mergeItemPtr: [{name: 3}]}
  threeWay:
    $setElementOrder/mergeItemPtr: [{name: 1}, {name: 2}]
    mergeItemPtr: [{name: 1}, {name: 2}]
  result: {mergeItemPtr: [{name: 1}, {name: 2}, {name: 3}]}
- description: merge lists of scalars
  original: {mergingIntList: [1, 2]}
  twoWay: &add3 {$setElementOrder/mergingIntList: [1, 2, 3], mergingIntList: [3]}
  modified: {mergingIntList: [1, 2, 3]}
  current: {mergingIntList: [1, 2, 4]}
  threeWay: *add3
  result: {mergingIntList: [1, 2, 3, 4]}
- description: add an item in a list of primitives and preserve order
  original: {mergingIntList: [1, 2]}
  twoWay: &add3first {$setElementOrder/mergingIntList: [3, 1, 2], mergingIntList: [3]}
  modified: {mergingIntList: [3, 1, 2]}
  current: {mergingIntList: [1, 4, 2]}
  threeWay: *add3first
  result: {mergingIntList: [3, 1, 4, 2]}
- description: delete an item in a list of primitives and preserve order
  original: {mergingIntList: [1, 2, 3]}
  twoWay: &reorderDelete
    {$setElementOrder/mergingIntList: [2, 1], $deleteFromPrimitiveList/mergingIntList: [3]}
  modified: {mergingIntList: [2, 1]}
  current: {mergingIntList: [1, 2, 3]}
  threeWay: *reorderDelete
  result: {mergingIntList: [2, 1]}
- description: add multiple items in a list and preserve order
  original: {mergingList: [{name: 1}, {name: 2, value: 2}]}
  twoWay: &addTwo
    $setElementOrder/mergingList: [{name: 1}, {name: 4}, {name: 2}, {name: 3}]
    mergingList: [{name: 4, value: 4}, {name: 3, value: 3}]
  modified:
    mergingList: [{name: 1}, {name: 4, value: 4}, {name: 2, value: 2}, {name: 3, value: 3}]
  current: {mergingList: [{name: 1, other: a}, {name: 2, value: 2, other: b}]}
  threeWay: *addTwo
  result:
    mergingList:
      [{name: 1, other: a}, {name: 4, value: 4}, {name: 2, value: 2, other: b},
       {name: 3, value: 3}]
- description: delete an item in a list and preserve order
  original: {mergingList: [{name: 1}, {name: 3, value: 3}, {name: 2, value: 2}]}
  twoWay: &delete3
    $setElementOrder/mergingList: [{name: 2}, {name: 1}]
    mergingList: [{name: 3, $patch: delete}]
  modified: {mergingList: [{name: 2, value: 2}, {name: 1}]}
  current: {mergingList: [{name: 1, other: a}, {name: 2, value: 2, other: b}, {name: 3, value: 3}]}
  threeWay: *delete3
  result: {mergingList: [{name: 2, value: 2, other: b}, {name: 1, other: a}]}
- description: add and delete an item in a list and preserve order
  original: {mergingList: [{name: 1}, {name: 3, value: 3}, {name: 2, value: 2}]}
  twoWay: &add4delete3
    $setElementOrder/mergingList: [{name: 4}, {name: 2}, {name: 1}]
    mergingList: [{name: 4, value: 4}, {name: 3, $patch: delete}]
  modified: {mergingList: [{name: 4, value: 4}, {name: 2, value: 2}, {name: 1}]}
  current: {mergingList: [{name: 1, other: a}, {name: 2, value: 2, other: b}, {name: 3, value: 3}]}
  threeWay: *add4delete3
  result: {mergingList: [{name: 4, value: 4}, {name: 2, value: 2, other: b}, {name: 1, other: a}]}
- description: set elements order in a list with server-only items 3
  original:
    mergingList: [{name: 1}, {name: 2, value: 2}, {name: 3, value: 3}, {name: 4, value: 4}]
  twoWay: &order2143 {$setElementOrder/mergingList: [{name: 2}, {name: 1}, {name: 4}, {name: 3}]}
  modified:
    mergingList: [{name: 2, value: 2}, {name: 1}, {name: 4, value: 4}, {name: 3, value: 3}]
  current:
    mergingList:
      [{name: 1, other: a}, {name: 2, value: 2}, {name: 7}, {name: 9}, {name: 8},
       {name: 3, value: 3}, {name: 4, value: 4}]
  threeWay: *order2143
  result:
    mergingList:
      [{name: 2, value: 2}, {name: 1, other: a}, {name: 7}, {name: 9}, {name: 8},
       {name: 4, value: 4}, {name: 3, value: 3}]
- description: set elements order in a int list with server-only items 2
  original: {mergingIntList: [1, 2, 3, 4]}
  twoWay: &int2143 {$setElementOrder/mergingIntList: [2, 1, 4, 3]}
  modified: {mergingIntList: [2, 1, 4, 3]}
  current: {mergingIntList: [1, 2, 9, 3, 4]}
  threeWay: *int2143
  result: {mergingIntList: [2, 1, 9, 4, 3]}
- description: behavior of set element order for a merging list with duplicate
  original: &dups
    mergingList:
      [{name: 1}, {name: 2, value: dup1}, {name: 3}, {name: 2, value: dup2}, {name: 4}]
  twoWay: &dupOrder
    $setElementOrder/mergingList: [{name: 2}, {name: 1}, {name: 4}, {name: 3}, {name: 2}]
  twoWayResult: &dupResult
    mergingList:
      [{name: 2, value: dup1}, {name: 2, value: dup2}, {name: 1}, {name: 4}, {name: 3}]
  current: *dups
  threeWay: *dupOrder
  result: *dupResult
- description: behavior of set element order for a merging int list with duplicate
  original: {mergingIntList: [1, 2, 3, 2, 4]}
  twoWay: {$setElementOrder/mergingIntList: [2, 1, 4, 3, 2]}
  twoWayResult: {mergingIntList: [2, 2, 1, 4, 3]}
- description: retainKeys map should clear defaulted field with conflict (discriminated union)
  original: {}
  twoWay: {retainKeysMap: {name: type2, other: bar}}
  modified: {retainKeysMap: {name: type2, other: bar}}
  current: {retainKeysMap: {name: type1, value: foo}}
  threeWay: {retainKeysMap: {$retainKeys: [name, other], name: type2, other: bar}}
  result: {retainKeysMap: {name: type2, other: bar}}
- description: retainKeys map adds a field and clear a field
  original: {retainKeysMap: {name: foo}}
  twoWay: &retainValue {retainKeysMap: {$retainKeys: [name, value], value: bar}}
  modified: {retainKeysMap: {name: foo, value: bar}}
  current: {retainKeysMap: {name: foo, other: a}}
  threeWay: *retainValue
  result: {retainKeysMap: {name: foo, value: bar}}
- description: retainKeys map deletes a field and clears a field
  original: {retainKeysMap: {name: foo, value: bar}}
  twoWay: &retainName {retainKeysMap: {$retainKeys: [name], value: null}}
  modified: {retainKeysMap: {name: foo}}
  current: {retainKeysMap: {name: foo, value: bar, other: a}}
  threeWay: *retainName
  result: {retainKeysMap: {name: foo}}
- description: retainKeys map clears a field
  original: {retainKeysMap: {name: foo, value: bar}}
  twoWay: {}
  modified: {retainKeysMap: {name: foo, value: bar}}
  current: {retainKeysMap: {name: foo, value: bar, other: a}}
  threeWay: {retainKeysMap: {$retainKeys: [name, value]}}
  result: {retainKeysMap: {name: foo, value: bar}}
- description: retainKeys map adds a field in a nested map
  original: {retainKeysMap: {name: foo, value: bar, simpleMap: {key1: a}}}
  twoWay: &nestedKey2 {retainKeysMap: {$retainKeys: [name, simpleMap, value], simpleMap: {key2: b}}}
  modified: {retainKeysMap: {name: foo, value: bar, simpleMap: {key1: a, key2: b}}}
  current: {retainKeysMap: {name: foo, value: bar, simpleMap: {key1: a, key3: c}}}
  threeWay: *nestedKey2
  result: {retainKeysMap: {name: foo, value: bar, simpleMap: {key1: a, key2: b, key3: c}}}
- description: retainKeys map delete nested non-merging list with conflict
  original: {retainKeysMap: {name: foo, nonMergingList: [{name: a}, {name: b}]}}
  twoWay: &dropList {retainKeysMap: {$retainKeys: [name, value], value: bar, nonMergingList: null}}
  modified: {retainKeysMap: {name: foo, value: bar}}
  current: {retainKeysMap: {name: foo, nonMergingList: [{name: a}, {name: b}, {name: c}]}}
  threeWay: *dropList
  result: {retainKeysMap: {name: foo, value: bar}}
- description: retainKeys map nested merging int list with no change
  original: {retainKeysMap: {name: foo, mergingIntList: [1, 2]}}
  twoWay: {retainKeysMap: {$retainKeys: [mergingIntList, name, value], value: bar}}
  modified: {retainKeysMap: {name: foo, value: bar, mergingIntList: [1, 2]}}
  current: {retainKeysMap: {name: foo, mergingIntList: [1, 2, 3]}}
  threeWay:
    retainKeysMap:
      {$retainKeys: [mergingIntList, name, value], $setElementOrder/mergingIntList: [1, 2],
       value: bar}
  result: {retainKeysMap: {name: foo, value: bar, mergingIntList: [1, 2, 3]}}
- description: retainKeys map adds an item and deletes an item in nested merging int list
  original: {retainKeysMap: {name: foo, mergingIntList: [1, 2, 3]}}
  twoWay: &addDeleteInts
    retainKeysMap:
      $retainKeys: [mergingIntList, name]
      mergingIntList: [5]
      $deleteFromPrimitiveList/mergingIntList: [2]
      $setElementOrder/mergingIntList: [1, 3, 5]
  modified: {retainKeysMap: {name: foo, mergingIntList: [1, 3, 5]}}
  current: {retainKeysMap: {name: foo, mergingIntList: [1, 2, 3, 4]}}
  threeWay: *addDeleteInts
  result: {retainKeysMap: {name: foo, mergingIntList: [1, 3, 5, 4]}}
- description: retainKeys map adds an item in nested merging list
  original: {retainKeysMap: {name: foo, mergingList: [{name: a}, {name: b}]}}
  twoWay: &addC
    retainKeysMap:
      $retainKeys: [mergingList, name]
      $setElementOrder/mergingList: [{name: a}, {name: b}, {name: c}]
      mergingList: [{name: c}]
  modified: {retainKeysMap: {name: foo, mergingList: [{name: a}, {name: b}, {name: c}]}}
  current: {retainKeysMap: {name: foo, mergingList: [{name: a}, {name: b}, {name: x}]}}
  threeWay: *addC
  result: {retainKeysMap: {name: foo, mergingList: [{name: a}, {name: b}, {name: c}, {name: x}]}}
- description: retainKeys map deletes an item in nested merging list
  original: {retainKeysMap: {name: foo, mergingList: [{name: a}, {name: b}]}}
  twoWay: &deleteB
    retainKeysMap:
      $retainKeys: [mergingList, name]
      $setElementOrder/mergingList: [{name: a}]
      mergingList: [{name: b, $patch: delete}]
  modified: {retainKeysMap: {name: foo, mergingList: [{name: a}]}}
  current: {retainKeysMap: {name: foo, mergingList: [{name: a}, {name: b}, {name: x}]}}
  threeWay: *deleteB
  result: {retainKeysMap: {name: foo, mergingList: [{name: a}, {name: x}]}}
- description: retainKeys list of maps clears a field
  original: {retainKeysMergingList: [{name: bar}, {name: foo, value: a}]}
  twoWay: {}
  modified: {retainKeysMergingList: [{name: bar}, {name: foo, value: a}]}
  current: {retainKeysMergingList: [{name: bar}, {name: foo, value: a, other: x}]}
  threeWay:
    $setElementOrder/retainKeysMergingList: [{name: bar}, {name: foo}]
    retainKeysMergingList: [{$retainKeys: [name, value], name: foo}]
  result: {retainKeysMergingList: [{name: bar}, {name: foo, value: a}]}
- description: retainKeys list of maps deletes a field and clear a field
  original: {retainKeysMergingList: [{name: bar}, {name: foo, value: a}]}
  twoWay: &retainNameOnly
    $setElementOrder/retainKeysMergingList: [{name: bar}, {name: foo}]
    retainKeysMergingList: [{$retainKeys: [name], name: foo, value: null}]
  modified: {retainKeysMergingList: [{name: bar}, {name: foo}]}
  current: {retainKeysMergingList: [{name: bar}, {name: foo, value: a, other: x}]}
  threeWay: *retainNameOnly
  result: {retainKeysMergingList: [{name: bar}, {name: foo}]}
- description: delete and reorder in one list, reorder in another
  original: &twoLists
    mergingList: [{name: a, value: a}, {name: b, value: b}]
    mergeItemPtr: [{name: c, value: c}, {name: d, value: d}]
  twoWay: &twoListsPatch
    $setElementOrder/mergingList: [{name: b}]
    $setElementOrder/mergeItemPtr: [{name: d}, {name: c}]
    mergingList: [{$patch: delete, name: a}]
  modified: &twoListsResult
    mergingList: [{name: b, value: b}]
    mergeItemPtr: [{name: d, value: d}, {name: c, value: c}]
  current: *twoLists
  threeWay: *twoListsPatch
  result: *twoListsResult
# -- replaceRawExtensionPatchTestCases -----------------------------------------------------
- description: replace RawExtension field and merge list
  original:
    name: my-object
    value: some-value
    other: current-other
    mergingList: [{name: 1}]
    replacingItem: {Some: Generic, Yaml: Inside, The: RawExtension, Field: Period}
  twoWay: &rawExtension
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList: [{name: 2}]
    replacingItem: {Newly: Modified, Yaml: Inside, The: RawExtension}
  twoWayResult:
    name: my-object
    value: some-value
    other: current-other
    mergingList: [{name: 1}, {name: 2}]
    replacingItem: {Newly: Modified, Yaml: Inside, The: RawExtension}
  current:
    name: my-object
    value: some-value
    other: current-other
    mergingList: [{name: 1}, {name: 3}]
    replacingItem: {Some: Generic, Yaml: Inside, The: RawExtension, Field: Period}
  threeWay: *rawExtension
  result:
    name: my-object
    value: some-value
    other: current-other
    mergingList: [{name: 1}, {name: 2}, {name: 3}]
    replacingItem: {Newly: Modified, Yaml: Inside, The: RawExtension}
"""
)


def _applications() -> list[Any]:
    """(document, patch, expected) for each two-way and three-way application."""
    params = []
    for case in UPSTREAM_CASES:
        if "error" in case:
            continue
        name = case["description"]
        expected = case.get("twoWayResult", case.get("modified"))
        params.append(pytest.param(case.get("original"), case["twoWay"], expected, id=name))
        if "threeWay" in case:
            applied = (case["current"], case["threeWay"], case["result"])
            params.append(pytest.param(*applied, id=f"{name} (three-way)"))
    return params


@pytest.mark.parametrize(("original", "patch", "expected"), _applications())
def test_upstream_cases_give_upstream_results_in_upstream_order(
    original: Any, patch: Any, expected: Any
) -> None:
    assert strategic_merge_patch(original, patch, MERGE_ITEM) == expected


@pytest.mark.parametrize(
    ("case"),
    [pytest.param(c, id=c["description"]) for c in UPSTREAM_CASES if "error" in c],
)
def test_upstream_invalid_cases_fail_with_upstream_messages(case: dict[str, Any]) -> None:
    with pytest.raises(PatchError, match=case["error"]):
        strategic_merge_patch(case["original"], case["twoWay"], MERGE_ITEM)


# -- real schemas ----------------------------------------------------------------------------
DEFS = definitions("1.37")
POD = DEFS.for_kind("", "v1", "Pod")
DEPLOYMENT = DEFS.for_kind("apps", "v1", "Deployment")
PDB = DEFS.for_kind("policy", "v1", "PodDisruptionBudget")


def _pod(**spec: Any) -> dict[str, Any]:
    containers = [{"name": "app", "image": "app:1"}, {"name": "sidecar", "image": "proxy:1"}]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "labels": {"app": "web", "tier": "front"}},
        "spec": {"containers": containers, **spec},
    }


def _containers(patch: Any) -> Any:
    return strategic_merge_patch(_pod(), {"spec": {"containers": patch}}, POD)["spec"]["containers"]


def test_containers_merge_by_name_and_keep_the_ones_the_patch_does_not_name() -> None:
    assert _containers([{"name": "sidecar", "image": "proxy:2"}]) == [
        {"name": "app", "image": "app:1"},
        {"name": "sidecar", "image": "proxy:2"},
    ]


def test_a_new_container_without_set_element_order_goes_before_the_server_only_ones() -> None:
    assert [c["name"] for c in _containers([{"name": "debug", "image": "busybox"}])] == [
        "debug",
        "app",
        "sidecar",
    ]


def test_set_element_order_places_a_new_container_where_kubectl_asks() -> None:
    patch = {
        "spec": {
            "$setElementOrder/containers": [{"name": "app"}, {"name": "sidecar"}, {"name": "x"}],
            "containers": [{"name": "x", "image": "x:1"}],
        }
    }
    result = strategic_merge_patch(_pod(), patch, POD)
    assert [c["name"] for c in result["spec"]["containers"]] == ["app", "sidecar", "x"]


def test_kubectl_renaming_a_container_keeps_the_new_one_in_place() -> None:
    patch = {
        "spec": {
            "$setElementOrder/containers": [{"name": "main"}, {"name": "sidecar"}],
            "containers": [
                {"name": "main", "image": "app:2"},
                {"name": "app", "$patch": "delete"},
            ],
        }
    }
    result = strategic_merge_patch(_pod(), patch, POD)
    assert result["spec"]["containers"] == [
        {"name": "main", "image": "app:2"},
        {"name": "sidecar", "image": "proxy:1"},
    ]


def test_patch_delete_removes_a_container_and_patch_replace_replaces_the_list() -> None:
    assert _containers([{"name": "app", "$patch": "delete"}]) == [
        {"name": "sidecar", "image": "proxy:1"}
    ]
    replaced = _containers([{"$patch": "replace"}, {"name": "only", "image": "o:1"}])
    assert replaced == [{"name": "only", "image": "o:1"}]


def test_ports_merge_on_their_integer_container_port() -> None:
    original = _pod()
    original["spec"]["containers"][0]["ports"] = [{"containerPort": 80, "name": "http"}]
    patch = {
        "spec": {
            "containers": [
                {"name": "app", "ports": [{"containerPort": 80, "protocol": "TCP"}]},
            ]
        }
    }
    result = strategic_merge_patch(original, patch, POD)
    assert result["spec"]["containers"][0]["ports"] == [
        {"containerPort": 80, "name": "http", "protocol": "TCP"}
    ]


def test_a_float_merge_key_does_not_match_an_integer_one_as_in_go() -> None:
    original = _pod()
    original["spec"]["containers"][0]["ports"] = [{"containerPort": 80}]
    patch = {"spec": {"containers": [{"name": "app", "ports": [{"containerPort": 80.0}]}]}}
    ports = strategic_merge_patch(original, patch, POD)["spec"]["containers"][0]["ports"]
    assert ports == [{"containerPort": 80.0}, {"containerPort": 80}]


def test_env_entries_merge_by_name_and_null_deletes_a_field_of_one() -> None:
    original = _pod()
    original["spec"]["containers"][0]["env"] = [
        {"name": "A", "value": "1"},
        {"name": "B", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
    ]
    patch = {
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "$setElementOrder/env": [{"name": "B"}, {"name": "A"}],
                    "env": [{"name": "B", "value": "2", "valueFrom": None}],
                }
            ]
        }
    }
    env = strategic_merge_patch(original, patch, POD)["spec"]["containers"][0]["env"]
    assert env == [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}]


def test_volumes_switch_source_with_retain_keys() -> None:
    original = _pod(volumes=[{"name": "data", "emptyDir": {}}, {"name": "cfg", "secret": {}}])
    patch = {
        "spec": {
            "volumes": [
                {"$retainKeys": ["configMap", "name"], "name": "data", "configMap": {"name": "c"}}
            ]
        }
    }
    volumes = strategic_merge_patch(original, patch, POD)["spec"]["volumes"]
    assert volumes == [{"name": "data", "configMap": {"name": "c"}}, {"name": "cfg", "secret": {}}]


def test_tolerations_are_atomic_and_replaced_whole() -> None:
    original = _pod(tolerations=[{"key": "a", "operator": "Exists"}])
    patch = {"spec": {"tolerations": [{"key": "b", "operator": "Exists"}]}}
    result = strategic_merge_patch(original, patch, POD)
    assert result["spec"]["tolerations"] == [{"key": "b", "operator": "Exists"}]


def test_args_are_replaced_but_finalizers_merge_as_a_set() -> None:
    original = _pod()
    original["metadata"]["finalizers"] = ["a", "b"]
    original["spec"]["containers"][0]["args"] = ["--x", "--y"]
    patch = {
        "metadata": {"finalizers": ["b", "c"]},
        "spec": {"containers": [{"name": "app", "args": ["--z"]}]},
    }
    result = strategic_merge_patch(original, patch, POD)
    assert result["metadata"]["finalizers"] == ["a", "b", "c"]
    assert result["spec"]["containers"][0]["args"] == ["--z"]


def test_delete_from_primitive_list_removes_finalizers() -> None:
    original = _pod()
    original["metadata"]["finalizers"] = ["a", "b", "a", "c"]
    patch = {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}
    assert strategic_merge_patch(original, patch, POD)["metadata"]["finalizers"] == ["b", "c"]


def test_delete_from_primitive_list_works_on_lists_without_merge_strategy() -> None:
    original = _pod()
    original["spec"]["containers"][0]["args"] = ["--x", "--y"]
    patch = {"spec": {"containers": [{"name": "app", "$deleteFromPrimitiveList/args": ["--x"]}]}}
    result = strategic_merge_patch(original, patch, POD)
    assert result["spec"]["containers"][0]["args"] == ["--y"]


def test_labels_merge_and_null_deletes_a_label() -> None:
    patch = {"metadata": {"labels": {"tier": None, "version": "2"}}}
    result = strategic_merge_patch(_pod(), patch, POD)
    assert result["metadata"]["labels"] == {"app": "web", "version": "2"}


def test_map_directives_replace_or_empty_a_map() -> None:
    replace = {"metadata": {"labels": {"$patch": "replace", "only": "this"}}}
    assert strategic_merge_patch(_pod(), replace, POD)["metadata"]["labels"] == {"only": "this"}
    delete = {"metadata": {"labels": {"$patch": "delete"}}}
    assert strategic_merge_patch(_pod(), delete, POD)["metadata"]["labels"] == {}


def test_deployment_strategy_without_retain_keys_keeps_rolling_update() -> None:
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}
    original = {"spec": {"strategy": strategy, "replicas": 1}}
    patch = {"spec": {"strategy": {"type": "Recreate"}}}
    result = strategic_merge_patch(original, patch, DEPLOYMENT)
    assert result["spec"]["strategy"] == {"type": "Recreate", "rollingUpdate": {"maxSurge": 1}}


def test_deployment_strategy_with_retain_keys_clears_rolling_update() -> None:
    original = {"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}}
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}
    result = strategic_merge_patch(original, patch, DEPLOYMENT)
    assert result["spec"]["strategy"] == {"type": "Recreate"}


def test_deployment_containers_merge_through_the_pod_template() -> None:
    original = {"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "1"}]}}}}
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "2"}]}}}}
    result = strategic_merge_patch(original, patch, DEPLOYMENT)
    assert result["spec"]["template"]["spec"]["containers"] == [{"name": "a", "image": "2"}]


def test_pdb_selector_has_replace_strategy() -> None:
    original = {"spec": {"selector": {"matchLabels": {"a": "1"}}, "minAvailable": 1}}
    patch: dict[str, Any] = {"spec": {"selector": {"matchExpressions": []}}}
    result = strategic_merge_patch(original, patch, PDB)
    assert result["spec"] == {"selector": {"matchExpressions": []}, "minAvailable": 1}


def test_owner_references_merge_on_uid() -> None:
    original = {"metadata": {"ownerReferences": [{"uid": "1", "name": "a"}]}}
    patch = {"metadata": {"ownerReferences": [{"uid": "1", "controller": True}]}}
    result = strategic_merge_patch(original, patch, POD)
    assert result["metadata"]["ownerReferences"] == [{"uid": "1", "name": "a", "controller": True}]


def test_a_new_field_loses_its_nulls_and_patch_maps_but_a_new_list_element_does_not() -> None:
    patch = {
        "spec": {
            "nodeSelector": {"disk": "ssd", "zone": None},
            "affinity": {"$patch": "replace"},
            "containers": [{"name": "new", "image": "n:1", "workingDir": None}],
        }
    }
    result = strategic_merge_patch(_pod(), patch, POD)
    assert result["spec"]["nodeSelector"] == {"disk": "ssd"}
    assert "affinity" not in result["spec"]
    assert result["spec"]["containers"][0] == {"name": "new", "image": "n:1", "workingDir": None}


def test_without_a_schema_maps_merge_and_lists_are_replaced() -> None:
    original = {"spec": {"items": [{"name": "a"}], "config": {"a": 1, "b": 2}}}
    patch = {"spec": {"items": [{"name": "b"}], "config": {"a": None, "c": {"d": None}}}}
    result = strategic_merge_patch(original, patch, None)
    assert result == {"spec": {"items": [{"name": "b"}], "config": {"b": 2, "c": {}}}}


def test_free_form_positions_in_a_real_schema_fall_back_to_merge_semantics() -> None:
    revision = DEFS.for_kind("apps", "v1", "ControllerRevision")
    original = {"revision": 1, "data": {"spec": {"list": [{"name": "a"}], "keep": 1}}}
    patch = {"data": {"spec": {"list": [{"name": "b"}], "new": {"x": None, "y": 1}}}}
    result = strategic_merge_patch(original, patch, revision)
    spec = {"list": [{"name": "b"}], "keep": 1, "new": {"y": 1}}
    assert result == {"revision": 1, "data": {"spec": spec}}


def test_a_null_patch_changes_nothing_and_a_patch_that_is_not_an_object_is_rejected() -> None:
    assert strategic_merge_patch(_pod(), None, POD) == _pod()
    with pytest.raises(PatchError) as info:
        strategic_merge_patch(_pod(), [], POD)
    assert info.value.code == 400
    assert str(info.value) == (
        "json: cannot unmarshal array into Go value of type map[string]interface {}"
    )


def test_inputs_are_never_mutated() -> None:
    original = _pod(volumes=[{"name": "data", "emptyDir": {}}])
    original["metadata"]["finalizers"] = ["a"]
    patch: dict[str, Any] = {
        "metadata": {"finalizers": ["b"], "labels": {"app": None}},
        "spec": {
            "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "app"}],
            "containers": [{"name": "app", "image": "app:2", "env": [{"name": "X"}]}],
            "volumes": [{"$retainKeys": ["name", "secret"], "name": "data", "secret": {}}],
            "nodeSelector": {"a": None},
        },
    }
    before = (copy.deepcopy(original), copy.deepcopy(patch))
    result = strategic_merge_patch(original, patch, POD)
    assert (original, patch) == before
    result["spec"]["containers"][1]["env"].append({"name": "Y"})
    assert patch["spec"]["containers"][0]["env"] == [{"name": "X"}]


@pytest.mark.parametrize(
    ("patch", "message", "code"),
    [
        pytest.param(
            {"spec": {"containers": [{"image": "x"}]}},
            "map: map[image:x] does not contain declared merge key: name",
            500,
            id="missing merge key",
        ),
        pytest.param(
            {"spec": {"containers": [{"name": "app", "$patch": "merge"}]}},
            "merging lists cannot yet be specified in the patch",
            500,
            id="merge directive in a list",
        ),
        pytest.param(
            {"metadata": {"labels": {"$patch": "keep"}}},
            "unknown patch type: keep in map: map[$patch:keep]",
            500,
            id="unknown map directive",
        ),
        pytest.param(
            {"metadata": {"$retainKeys": "name"}},
            "invalid patch format of retainKeys",
            400,
            id="retainKeys that is not a list",
        ),
        pytest.param(
            {"metadata": {"$retainKeys": ["name"], "labels": {"a": "b"}}},
            "invalid patch format of retainKeys",
            400,
            id="patch sets a key retainKeys does not list",
        ),
        pytest.param(
            {"metadata": {"$deleteFromPrimitiveListfinalizers": ["a"]}},
            "invalid patch format of primitive list",
            400,
            id="deleteFromPrimitiveList without slash",
        ),
        pytest.param(
            {"spec": {"$setElementOrderx": []}},
            "invalid patch format of setElementOrder list",
            400,
            id="setElementOrder without slash",
        ),
        pytest.param(
            {"spec": {"$setElementOrder/containers": "app"}},
            "expected a []interface {}, but received a string",
            500,
            id="setElementOrder that is not a list",
        ),
        pytest.param(
            {"metadata": {"finalizers": [["a"]]}},
            "list element types are not identical: [[a b] [[a]]]",
            500,
            id="mixed element types",
        ),
        pytest.param(
            {"metadata": {"finalizers": [1]}},
            "list element types are not identical: [[a b] [1]]",
            500,
            id="an integer in a list of strings",
        ),
    ],
)
def test_invalid_patches_raise_patch_error_with_upstream_text(
    patch: dict[str, Any], message: str, code: int
) -> None:
    original = _pod()
    original["metadata"]["finalizers"] = ["a", "b"]
    with pytest.raises(PatchError) as info:
        strategic_merge_patch(original, patch, POD)
    assert (info.value.message, info.value.code) == (message, code)


def test_a_list_of_lists_is_rejected_as_invalid() -> None:
    original = {"metadata": {"finalizers": [["a"]]}}
    with pytest.raises(PatchError) as info:
        strategic_merge_patch(original, {"metadata": {"finalizers": [["b"]]}}, POD)
    assert (info.value.message, info.value.code) == ("lists of lists are not supported", 422)
