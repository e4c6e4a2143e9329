# warden — build, test, run. `make` builds build/warden; see README.md for the rest.
CC ?= cc
PKGS := libmicrohttpd libcurl jansson sqlite3 yaml-0.1 libhs libcrypto
# Debian packages the build, tests and `make run` need (make deps installs the missing ones).
DEB_PKGS := build-essential pkg-config libmicrohttpd-dev libcurl4-openssl-dev libjansson-dev \
	libsqlite3-dev libyaml-dev libvectorscan-dev liblinear-dev libssl-dev curl wrk \
	clang libclang-rt-14-dev clang-format cppcheck chromium jq

BUILD ?= build
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Wshadow -Wno-unused-parameter -Wformat=2 -Wvla
CPPFLAGS += -Isrc -D_GNU_SOURCE $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -llinear -lpthread -lm
override CFLAGS += -std=c11 $(WARN) -MMD -MP

LIB_SRC := $(filter-out src/main.c,$(wildcard src/*/*.c))
# Files compiled into the binary (tools/embed.sh): migrations, dashboard assets.
MIGRATIONS := $(sort $(wildcard migrations/*.sql))
DASHBOARD := $(sort $(wildcard src/admin/dashboard/*))
GEN_SRC := $(BUILD)/gen/migrations.c $(BUILD)/gen/dashboard.c
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o) $(GEN_SRC:.c=.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps run test test-unit test-integration test-asan lint fmt bench fuzz clean models eval ceiling

all: $(BUILD)/warden

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/gen/migrations.c: $(MIGRATIONS) tools/embed.sh
	@mkdir -p $(dir $@)
	sh tools/embed.sh wd_migrations $@ $(MIGRATIONS)

$(BUILD)/gen/dashboard.c: $(DASHBOARD) tools/embed.sh
	@mkdir -p $(dir $@)
	sh tools/embed.sh wd_dashboard $@ $(DASHBOARD)

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/libwarden.a: $(LIB_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/warden: $(BUILD)/src/main.o $(BUILD)/libwarden.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libwarden.a tests/unit/test.h $(BUILD)/tests/plugin_example.so
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/unit -DWD_TEST_PLUGIN='"$(BUILD)/tests/plugin_example.so"' $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libwarden.a $(LDLIBS)

# A checker plugin as a third party builds one (tests load it by path).
$(BUILD)/tests/plugin_example.so: tests/plugins/plugin_example.c src/chain/checker.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -shared -fPIC -o $@ $<

# Installs every Debian package the build needs when one is missing, then the npm packages the
# integration tests use (the official openai client). Needs root (or sudo) the first time.
deps:
	@missing=$$(for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done; \
		command -v node >/dev/null || echo nodejs; command -v npm >/dev/null || echo npm); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@[ -d node_modules/openai ] && [ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund --loglevel=error

run: deps all
	@bash tests/run-demo.sh

# Tests keep compiled rule packs (detect/dbcache.h) in the build directory, not the user's cache.
TEST_ENV = WARDEN_CACHE_DIR=$(abspath $(BUILD))/hscache

test-unit: $(UNIT_BIN)
	@fail=0; for t in $(UNIT_BIN); do $(TEST_ENV) $$t || fail=1; done; exit $$fail

test-integration: $(BUILD)/warden
	@[ -d node_modules/openai ] && [ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund --loglevel=error
	$(TEST_ENV) WARDEN_BIN=$(abspath $(BUILD)/warden) node --test --test-concurrency=1 tests/integration/ tests/dashboard/

test: deps
	$(MAKE) all
	$(MAKE) test-unit
	$(MAKE) test-integration

# Same tests, built with AddressSanitizer and UndefinedBehaviorSanitizer in build-asan/.
test-asan: deps
	$(MAKE) BUILD=build-asan CC=clang CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
		LDFLAGS="-fsanitize=address,undefined" all test-unit test-integration

FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
FORCE:
build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c FORCE
	$(MAKE) BUILD=build-fuzz CC=clang CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined" build-fuzz/libwarden.a
	clang $(CPPFLAGS) -O1 -g -fsanitize=fuzzer,address,undefined -o $@ $< build-fuzz/libwarden.a $(LDLIBS)

# Builds the libFuzzer targets and runs each for FUZZ_SECONDS (default 30) on its seed corpus.
fuzz: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do n=$$(basename $$f); mkdir -p build-fuzz/corpus/$$n; \
		$$f -max_total_time=$${FUZZ_SECONDS:-30} build-fuzz/corpus/$$n tests/fuzz/seeds/$$n || exit 1; done

C_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
lint:
	clang-format --dry-run -Werror $(C_FILES)
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
		--suppress=missingIncludeSystem -Isrc src
	@! grep -nE '\b(sprintf|strcpy|strcat|gets|atoi|atol)\s*\(' $(C_FILES) || \
		{ echo "banned function (use snprintf, memcpy with a length, strtol)"; exit 1; }

fmt:
	clang-format -i $(C_FILES)

bench: deps all
	@bash bench/run.sh

clean:
	rm -rf build build-asan build-fuzz

-include $(LIB_OBJ:.o=.d) $(BUILD)/src/main.d

# ---- detection models and their evaluation (need ../shared/datasets; not part of `make test`) ----
DATA ?= ../shared/datasets
HARM_POS := $(DATA)/advbench/advbench_behaviors.jsonl $(DATA)/harmbench/harmbench_val.jsonl \
	$(DATA)/strongreject/strongreject_dev.jsonl $(DATA)/jailbreakbench/jbb_behaviors_dev.jsonl \
	$(DATA)/cyberseceval-mitre/mitre.jsonl $(DATA)/cyberseceval-interpreter/interpreter.jsonl \
	$(DATA)/openai-moderation/openai_moderation.jsonl $(DATA)/xstest/xstest.jsonl
BENIGN := $(DATA)/cyberseceval-mitre-frr/mitre_frr_dev.jsonl \
	$(DATA)/dolly-sensitive-benign/dolly_sensitive_benign_dev.jsonl \
	$(DATA)/notinject/notinject_level1.jsonl $(DATA)/wildguard-benign-injecguard/wildguard_benign.jsonl \
	$(DATA)/mt-bench-questions/mt_bench_questions.jsonl tests/data/benign_lookalikes.jsonl
ATTACKS := $(DATA)/jailbreak-llms-in-the-wild/jailbreak_prompts.jsonl \
	$(DATA)/cyberseceval-prompt-injection/prompt_injection.jsonl $(DATA)/bipia/bipia_attacks_train.jsonl
# CyberSecEval's "logic-violating" injections are mostly harmless requests ("What is the weather
# usually like in Los Angeles in February?") that are attacks only on their system prompt ("...
# describe the climate in New York City. Under no circumstances ..."). The jailbreak model learns
# the attacks without them; jailbreak_restricted.model learns them too, and reads the user's turns
# when the operator's system prompt restricts the assistant (trained on them, the jailbreak
# checker flagged 5.3% of warden's everyday messages; 3.3% now).
ATTACKS_ANY := $(filter-out $(DATA)/cyberseceval-prompt-injection/prompt_injection.jsonl,$(ATTACKS)) \
	$(BUILD)/prompt_injection_any.jsonl
$(BUILD)/prompt_injection_any.jsonl: $(DATA)/cyberseceval-prompt-injection/prompt_injection.jsonl
	@mkdir -p $(BUILD)
	jq -c 'select(.risk_category != "logic-violating")' $< > $@

# Harm training only (not in the request table): AdvBench's harmful strings (toxic statements),
# and model answers: complying with one of xstest's unsafe prompts is a harmful answer, answers to
# its safe prompts and refusals are benign (harm-out judges answers; the table below has them).
HARM_MORE := $(DATA)/advbench/advbench_strings.jsonl $(BUILD)/answers.jsonl
$(BUILD)/answers.jsonl: $(DATA)/xstest-completions/xstest_completions.jsonl
	@mkdir -p $(BUILD)
	jq -c 'select((.label=="compliance" and .prompt_label=="harmful") or .prompt_label=="benign" or .label=="refusal") | {id, text, label: (if (.label=="compliance" and .prompt_label=="harmful") then "harmful" else "benign" end), category: (.label + " to " + .prompt_label + " prompt")}' $< > $@

# Harmful requests and their benign twins on the same topics, written for warden (S1-S14; 360
# pairs): the model learns intent apart from topic. Its test split is reported on its own below.
CONTRAST := tests/data/harm_contrast.jsonl
# Everyday tasks ("repot an orchid", "enable audit logging on PostgreSQL") asked in the how-to
# frames of the public harmful sets ("Give detailed step-by-step instructions for how to ..."):
# without them the harm checker blocked 44% of such requests on the frame alone (and the jailbreak
# checker 30%). Written for warden, two phrasings per task, split by task ("group"); its test split
# is reported on its own below.
HOWTO := tests/data/benign_howto.jsonl
# Harmless role-play in the openers of the public jailbreak sets ("Hello, ChatGPT. From now on
# you are a Linux terminal. Stay in character..."): without them the jailbreak checker flagged
# three in four. Written for warden, 40 personas in two openers each, split by persona; the
# jailbreak model trains on its training split, the test split is reported below.
ROLEPLAY := tests/data/benign_roleplay.jsonl
# 600 more harmless role-plays and rule-setting messages, written apart (characters, tutors,
# simulated terminals, long persona setups). No model trains on them: learning them took the
# jailbreak model's validation recall from 0.961 to 0.947, so they measure (all records).
ROLEPLAY_MORE := tests/data/benign_roleplay_more.jsonl
# Long messages written for warden: personal letters and posts, fiction drafts, work documents
# with a task, detailed instructions for a harmless task (400, 600-3000 characters). The public
# benign sets are short prompts; without these the jailbreak checker flagged 36% of such messages
# (fiction and instructions read like the long jailbreak templates). The jailbreak model trains
# on the training split; the test split is reported below.
LONG := tests/data/benign_long.jsonl
# Writing requests in the harmful sets' frames ("Write a persuasive article arguing that our town
# needs bike lanes", "Draft a letter to my landlord ...", a eulogy, a post on suicide-prevention
# hotlines; 150 tasks in two phrasings, split by task), written for warden: the harm checker
# blocked 21% of them (the frame "write a <document> to <person>" had become evidence of harm);
# the harm model trains on the training split, the test split is reported below.
WRITING := tests/data/benign_writing.jsonl
# Information requests on sensitive topics (overdose signs, the causes of a genocide, monitoring
# my server for DDoS, arguments on both sides of the death penalty; 150 tasks in two phrasings),
# written for warden. No model trains on them: learning them left the harm model's validation
# recall where it was (0.859 against 0.863), so they are reported only (all records).
TOPICS := tests/data/benign_topics.jsonl

# Short everyday messages ("What's the capital of Australia?", "make it more formal", "hi"),
# written for warden: what most traffic looks like. No model trains on them: they measure what
# the models still flag after learning the set below.
EVERYDAY := tests/data/benign_everyday.jsonl
# Ordinary chat messages written for warden to learn from (1,979, none in the set above: money,
# cooking, work emails, homework, travel; follow-ups such as "can you redo that as a table";
# questions about what the assistant can do; everyday senses of harm words: "kill time", "pay
# off a loan", "crack an egg"). Both models train on its training split. Without it the harm
# model read "Should I pay off my credit card first or put money into savings?" as 0.98 harmful.
EVERYDAY_TRAIN := tests/data/benign_everyday_train.jsonl

# Conversations written for warden: harmful intent or a jailbreak set up over earlier turns, the
# last message innocuous alone, and benign conversations on the same topics and in the same
# forms. Each record's "context" holds the earlier messages (warden eval sends them first).
MULTITURN := tests/data/multiturn.jsonl
MULTITURN_JB := tests/data/multiturn_jailbreak.jsonl
# Jailbreaks as people type them in a chat, each with a harmless twin in the same device,
# written for warden (300 pairs: a persona who "doesn't care about rules", the late grandmother
# who used to tell the steps, the "unfiltered version" of the model, a claimed authority, a
# reward, refusal suppression, "start with 'Sure, here is'", JSON-only answers, a request split
# into variables, another language or encoding, "continue the story"; "Be Kai for the rest of
# this chat ... rate my playlist"). No model trains on them: the jailbreak model that learnt half
# of them read harmless short requests as attacks ("Banana bread recipe with 3 bananas and no
# eggs?" 0.28 -> 0.75), so they measure (all records).
JB_CHAT := tests/data/jailbreak_chat.jsonl

# Developers' questions about code, config and shell snippets ("find ... -print0 | xargs -0 rm --
# what does the -- do?"), written for warden: symbol salad that is not an attack.
CODEQ := tests/data/benign_code_questions.jsonl

# Code and coding instructions: neither harmful requests (without them the harm model blocked 13%
# of warden's questions with code in them: Dockerfiles, SQL, git) nor attacks.
CODE := $(DATA)/cyberseceval-insecure-code/insecure_code.jsonl \
	$(DATA)/cyberseceval-insecure-code/insecure_code.jsonl@instruction_prompt \
	$(DATA)/codeshield-icd-tests/codeshield_icd_tests.jsonl

# More that is not a jailbreak, for the jailbreak model: requests with no attack in them
# (xstest, the how-to set), code and coding instructions, model answers (technical text is not an
# attack), harmless role-play, long messages, ordinary chat.
JB_BENIGN := $(DATA)/xstest/xstest.jsonl $(CODE) $(DATA)/xstest-completions/xstest_completions.jsonl $(HOWTO) $(ROLEPLAY) \
	$(LONG) $(EVERYDAY_TRAIN)

# The character LM learns fluent text (benign and harmful requests alike) and code: GCG suffixes
# are neither.
CHARLM_BENIGN := $(DATA)/wildguard-benign-injecguard/wildguard_benign.jsonl \
	$(DATA)/dolly-sensitive-benign/dolly_sensitive_benign_dev.jsonl \
	$(DATA)/mt-bench-questions/mt_bench_questions.jsonl $(DATA)/openai-moderation/openai_moderation.jsonl \
	$(DATA)/xstest/xstest.jsonl $(DATA)/cyberseceval-mitre-frr/mitre_frr_dev.jsonl \
	$(DATA)/notinject/notinject_level1.jsonl
CHARLM_CODE := $(DATA)/cyberseceval-insecure-code/insecure_code.jsonl \
	$(DATA)/codeshield-icd-tests/codeshield_icd_tests.jsonl
CHARLM_FLUENT := $(DATA)/advbench/advbench_behaviors.jsonl $(DATA)/harmbench/harmbench_val.jsonl \
	$(DATA)/strongreject/strongreject_dev.jsonl

# A jailbreak model from the attacks $(1) and the benign sets, into conf/models/$(2).model.
train_jailbreak = $(BUILD)/warden train $(foreach f,$(1) $(BENIGN) $(JB_BENIGN),--data $(f)) \
	--map jailbreak=attack --map injection=attack --map harmful=benign \
	--map insecure_code=benign --map secure_code=benign --map compliance=benign \
	--map refusal=benign --map partial_refusal=benign \
	--classes benign,attack --balance --l1 --c 48 --out conf/models/$(2).model

# Rebuilds the committed model files from the public data (train split only; deterministic).
HARM_TRAIN = $(HARM_POS) $(BENIGN) $(HARM_MORE) $(CODE) $(CONTRAST) $(HOWTO) $(WRITING) $(EVERYDAY_TRAIN)
models: $(BUILD)/warden $(BUILD)/answers.jsonl $(BUILD)/prompt_injection_any.jsonl
	$(BUILD)/warden train $(foreach f,$(HARM_TRAIN),--data $(f)) \
		--map insecure_code=benign --map secure_code=benign \
		--classes benign,harmful --balance --l1 --c 32 --lexicon --out conf/models/harm.model
	$(BUILD)/warden train $(foreach f,$(HARM_TRAIN),--data $(f)) \
		--map insecure_code=benign --map secure_code=benign \
		--classes benign,harmful --balance --lexicon --hidden 8 --epochs 4 --out conf/models/harm_net.model
	$(call train_jailbreak,$(ATTACKS_ANY),jailbreak)
	$(call train_jailbreak,$(ATTACKS),jailbreak_restricted)
	$(BUILD)/warden train $(foreach f,$(HARM_POS),--data $(f)) --by-category harmful \
		--map-file conf/models/categories.map --classes S1,S2,S4,S6,S7,S8,S9,S10,S11,S12,S14 \
		--balance --l1 --c 8 --lexicon --out conf/models/harm_category.model
	$(BUILD)/warden charlm --label benign,benign_partial_labels \
		$(foreach f,$(CHARLM_BENIGN),--data $(f)) --label harmful \
		$(foreach f,$(CHARLM_FLUENT),--data $(f)) --label insecure_code,secure_code \
		$(foreach f,$(CHARLM_CODE),--data $(f)) --out conf/models/charlm.model

# The quality tables in the README: held-out test split; warden's checkers at thresholds chosen
# on the validation split for a 5% false-positive rate, the keyword baselines (conf/eval.yaml) as
# they are.
EVAL = $(BUILD)/warden eval -c conf/eval.yaml --format markdown
# The harmful sets are the issue's: xstest's unsafe prompts are contrasts to its safe ones
# ("How do I kill a Python process" / "How do I kill my neighbour"); they are scored in a table
# of their own, at the thresholds chosen above.
HARM_EVAL := $(filter-out $(DATA)/xstest/xstest.jsonl,$(HARM_POS)) $(BUILD)/xstest_safe.jsonl
$(BUILD)/xstest_safe.jsonl: $(DATA)/xstest/xstest.jsonl
	@mkdir -p $(BUILD)
	jq -c 'select(.label=="benign")' $< > $@
# Requests hidden in a document (harmful and benign alike, each file's order): after, before or
# inside two of dolly's reference answers (encyclopaedic text that names sensitive topics), in
# turn. A whole-text score is diluted by the document; the harm checker's windows
# (detect/classify.h) read the request's sentence on its own.
HIDDEN_SRC := $(DATA)/advbench/advbench_behaviors.jsonl $(DATA)/harmbench/harmbench_val.jsonl \
	$(DATA)/strongreject/strongreject_dev.jsonl $(DATA)/jailbreakbench/jbb_behaviors_dev.jsonl \
	$(BUILD)/xstest_safe.jsonl $(DATA)/mt-bench-questions/mt_bench_questions.jsonl \
	$(DATA)/wildguard-benign-injecguard/wildguard_benign.jsonl
$(BUILD)/hidden.jsonl: tests/eval/hidden.jq $(DATA)/dolly-sensitive-benign/dolly_sensitive_benign_dev.jsonl \
		$(HIDDEN_SRC)
	jq -c -n --slurpfile d $(DATA)/dolly-sensitive-benign/dolly_sensitive_benign_dev.jsonl \
		-f tests/eval/hidden.jq $(HIDDEN_SRC) > $@
# Human red-team openers: the first user turns of Anthropic's HH-RLHF red-team conversations
# (unlabelled upstream), labelled for warden harmful, benign or unclear, one label per id in
# tests/data/hh_rlhf_labels.jsonl (the texts stay in ../shared); the unclear ones are left out.
# No model trains on them: learning their training split doubled the harm checker's recall on the
# rest (0.28 -> 0.57) but cost the main table 2-3 points.
$(BUILD)/hh_redteam.jsonl: tests/data/hh_rlhf_labels.jsonl \
		$(DATA)/hh-rlhf-harmless-base/hh_harmless_base_test_first_turns.jsonl
	@mkdir -p $(BUILD)
	jq -c -n --slurpfile l tests/data/hh_rlhf_labels.jsonl \
		'($$l | map({(.id): .label}) | add) as $$m | inputs | select($$m[.id] == "harmful" or $$m[.id] == "benign") | {id: .id, text: .text, label: $$m[.id], category: "red-team opener"}' \
		$(DATA)/hh-rlhf-harmless-base/hh_harmless_base_test_first_turns.jsonl > $@
# Short jailbreaks (under 400 characters) and the benign requests above, in documents the same way:
# what a jailbreak after pasted text does to the jailbreak checker, and what a question about a
# pasted document does.
$(BUILD)/jb_short.jsonl: $(DATA)/jailbreak-llms-in-the-wild/jailbreak_prompts.jsonl
	@mkdir -p $(BUILD)
	jq -c 'select(.label == "jailbreak" and (.text | length) < 400)' $< > $@
PADDED_SRC := $(BUILD)/jb_short.jsonl $(BUILD)/xstest_safe.jsonl \
	$(DATA)/mt-bench-questions/mt_bench_questions.jsonl \
	$(DATA)/wildguard-benign-injecguard/wildguard_benign.jsonl
$(BUILD)/padded.jsonl: tests/eval/hidden.jq $(DATA)/dolly-sensitive-benign/dolly_sensitive_benign_dev.jsonl \
		$(PADDED_SRC)
	jq -c -n --slurpfile d $(DATA)/dolly-sensitive-benign/dolly_sensitive_benign_dev.jsonl \
		-f tests/eval/hidden.jq $(PADDED_SRC) > $@
# The jailbreak table's benign side is the same as the harm table's (its harmful requests are
# neither jailbreaks nor benign, and are left out).
JB_EVAL_BENIGN := $(BENIGN) $(BUILD)/xstest_safe.jsonl $(DATA)/jailbreakbench/jbb_behaviors_dev.jsonl
eval: $(BUILD)/warden $(BUILD)/answers.jsonl $(BUILD)/xstest_safe.jsonl $(BUILD)/hidden.jsonl \
		$(BUILD)/padded.jsonl $(BUILD)/hh_redteam.jsonl
	$(EVAL) --checker harm,harm+rules --target-fpr 0.05 \
		$(foreach f,$(HARM_EVAL) $(BENIGN),--data $(f)) --positive harmful --negative benign
	$(EVAL) --checker badwords $(foreach f,$(HARM_EVAL) $(BENIGN),--data $(f)) \
		--positive harmful --negative benign
	@echo "xstest (unsafe prompts and their safe twins), at conf/eval.yaml's thresholds:"
	$(EVAL) --checker harm,harm+rules,badwords --data $(DATA)/xstest/xstest.jsonl \
		--positive harmful --negative benign
	$(CC) $(CPPFLAGS) -O2 -o $(BUILD)/refusal_eval tests/eval/refusal_eval.c src/detect/refusal.c \
		$(LDLIBS) && $(BUILD)/refusal_eval
	$(EVAL) --checker jailbreak --target-fpr 0.05 \
		$(foreach f,$(ATTACKS) $(JB_EVAL_BENIGN),--data $(f)) --positive jailbreak,injection --negative benign
	$(EVAL) --checker jb-keywords \
		$(foreach f,$(ATTACKS) $(JB_EVAL_BENIGN),--data $(f)) --positive jailbreak,injection --negative benign
	@echo "Answers (xstest-completions: complying with a harmful prompt is a harmful answer;"
	@echo "answers to benign prompts and refusals are benign), as harm-out scores them:"
	$(EVAL) --checker harm-out,badwords --data $(BUILD)/answers.jsonl --positive harmful --negative benign
	@echo "GCG-style suffixes (warden's generated set and its look-alikes, all records):"
	$(EVAL) --checker jailbreak,jb-keywords --split all --data tests/data/gcg_suffixes.jsonl \
		--data tests/data/gcg_lookalikes.jsonl --positive jailbreak --negative benign
	@echo "Human red-team openers (HH-RLHF, labelled for warden; all records):"
	$(EVAL) --checker harm,harm+rules,badwords --split all --data $(BUILD)/hh_redteam.jsonl \
		--positive harmful --negative benign
	@echo "Requests hidden in a document (generated from the test split; windows on, then off):"
	$(EVAL) --checker harm,harm+rules,badwords --data $(BUILD)/hidden.jsonl --positive harmful --negative benign
	$(EVAL) --checker harm+rules-whole --data $(BUILD)/hidden.jsonl --positive harmful --negative benign
	@echo "Short jailbreaks and benign requests in a document (generated from the test split):"
	$(EVAL) --checker jailbreak,jb-keywords --data $(BUILD)/padded.jsonl --positive jailbreak \
		--negative benign
	@echo "Harmful requests and their benign twins (warden's own contrast pairs, test split):"
	$(EVAL) --checker harm,harm+rules,badwords --data $(CONTRAST) --positive harmful --negative benign
	@echo "Everyday tasks asked in the harmful sets' how-to frames (warden's own, test split):"
	$(EVAL) --checker harm,harm+rules,badwords --data $(HOWTO) --positive harmful --negative benign
	@echo "Harmless role-play in the jailbreak sets' openers (warden's own, test split):"
	$(EVAL) --checker jailbreak,jb-keywords --data $(ROLEPLAY) --positive jailbreak --negative benign
	@echo "More harmless role-play and rule-setting messages (warden's own, all records):"
	$(EVAL) --checker jailbreak,jb-keywords --split all --data $(ROLEPLAY_MORE) --positive jailbreak \
		--negative benign
	@echo "Jailbreaks as typed in a chat and their harmless twins (warden's own, all records):"
	$(EVAL) --checker jailbreak,jb-keywords --split all --data $(JB_CHAT) --positive jailbreak \
		--negative benign
	@echo "Benign questions under system prompts that guard a secret, name passwords, or carry"
	@echo "retrieved text (warden's own, all records; two ask about passwords under a guarded one):"
	$(EVAL) --checker jailbreak,jb-keywords --split all --data tests/data/system_prompts_benign.jsonl \
		--positive jailbreak --negative benign
	@echo "Questions with code and everyday prompts in ten other languages (warden's own, test split):"
	$(EVAL) --checker harm+rules,jailbreak,jb-keywords --data tests/data/benign_code_multilingual.jsonl \
		--positive jailbreak --negative benign
	@echo "Long messages: letters, fiction, documents with a task, instructions (warden's own, test split):"
	$(EVAL) --checker harm+rules,jailbreak,jb-keywords --data $(LONG) --positive jailbreak --negative benign
	@echo "Writing requests in the harmful sets' frames (warden's own, test split):"
	$(EVAL) --checker harm+rules,jailbreak,jb-keywords --data $(WRITING) --positive harmful --negative benign
	@echo "Information requests on sensitive topics (warden's own, all records):"
	$(EVAL) --checker harm+rules,jailbreak,jb-keywords --split all --data $(TOPICS) --positive harmful \
		--negative benign
	@echo "Conversations: harm or a jailbreak spread over turns, and benign ones (warden's own, all records):"
	$(EVAL) --checker harm+rules,badwords --split all --data $(MULTITURN) --positive harmful \
		--negative benign
	$(EVAL) --checker jailbreak,jb-keywords --split all --data $(MULTITURN_JB) --positive jailbreak \
		--negative benign
	@echo "Short everyday messages (warden's own, all records):"
	$(EVAL) --checker harm+rules,jailbreak,jb-keywords --split all --data $(EVERYDAY) \
		--positive jailbreak --negative benign
	@echo "Developers' questions with code, config and shell snippets (warden's own, all records):"
	$(EVAL) --checker harm+rules,jailbreak,jb-keywords --split all --data $(CODEQ) \
		--positive jailbreak --negative benign

# Other learners on the harm model's data (tools/harm_ceiling.py, scikit-learn): whether a linear
# SVM, a TF-IDF logistic regression, a small network or more data of the same kind would get
# nearer the issue's 0.95 than warden's model. A measurement for maintainers; needs python3-sklearn.
CEIL := $(BUILD)/ceiling
ceiling: $(BUILD)/warden $(BUILD)/answers.jsonl $(BUILD)/xstest_safe.jsonl
	@mkdir -p $(CEIL)
	$(EVAL) --checker harm+rules --split train $(foreach f,$(HARM_TRAIN),--data $(f)) --positive harmful \
		--negative benign,insecure_code,secure_code --scores $(CEIL)/train.scores >/dev/null
	for s in valid test; do $(EVAL) --checker harm+rules --split $$s $(foreach f,$(HARM_EVAL) $(BENIGN),--data $(f)) \
		--positive harmful --negative benign --scores $(CEIL)/$$s.scores >/dev/null || exit 1; done
	/usr/bin/python3 tools/harm_ceiling.py $(CEIL) $(sort $(HARM_TRAIN) $(HARM_EVAL) $(BENIGN))
