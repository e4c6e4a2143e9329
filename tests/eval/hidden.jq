# Requests hidden in a document, for `make eval`: each input record (harmful or benign) after,
# before or inside (at a sentence end past the middle) two of dolly's reference answers, in turn.
# $d: dolly-sensitive-benign's records (the documents).
[$d[] | .reference_response | select(. != null and length > 200)] as $pads
| [inputs | select(.has_context | not)]
| to_entries[]
| .key as $i
| .value as $r
| ($pads[$i % ($pads | length)] + " " + $pads[($i * 7 + 3) % ($pads | length)]) as $p
| ($i % 3) as $at
| (($p | length / 2 | floor) as $h | $h + (($p[$h:] | index(". ")) // 0) + 1) as $cut
| {id: $r.id, label: $r.label,
   category: (["after a document", "before a document", "inside a document"][$at]),
   text: (if $at == 0 then $p + "\n\n" + $r.text
          elif $at == 1 then $r.text + "\n\n" + $p
          else $p[:$cut] + " " + $r.text + " " + $p[$cut:] end)}
