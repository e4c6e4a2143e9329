/* lexicon.c — word classes for the intent × target features (see lexicon.h).
 *
 * Each class is a list of base words; at first use every base is entered with its regular
 * inflections (-s, -es, -ed, -d, -ing, -er, doubled consonant + -ed/-ing, e dropped before -ing)
 * into an open-addressing table of 32-bit FNV-1a hashes (8 bytes a slot, 128 KiB: it stays in
 * cache; two words sharing a 32-bit hash is a one-in-a-million chance per lookup, and would only
 * add a class feature). Over-generated forms ("hanged") are harmless: they only ever match
 * themselves. The table is built once (pthread_once) and read without locks. */
#include "detect/lexicon.h"

#include <pthread.h>
#include <string.h>

#define TABLE_BITS 14 /* 16384 slots for about 6000 inflected forms */
#define TABLE_SIZE (1u << TABLE_BITS)
#define WORD_MAX   23

struct slot {
	uint32_t hash;
	uint32_t classes; /* 0 = empty */
};

static struct slot table[TABLE_SIZE];
/* One bit per hash value modulo FILTER_BITS, set for each word in the table: most words are in
 * none of the lists, and this 4 KiB stays in L1, where the table's probe would miss. */
#define FILTER_BITS (1u << 15)
static uint64_t filter[FILTER_BITS / 64];
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* The class lists: words as wd_normalize leaves them (lowercase ASCII, leetspeak folded). */
static const char *const words[WD_LEX_NCLASS] = {
    [WD_LEX_VIOLENT] = "kill murder assassinate shoot stab strangle choke suffocate smother poison "
                       "hang drown slay slaughter massacre behead decapitate execute torture maim "
                       "attack assault beat hurt harm injure wound cripple eliminate kidnap abduct "
                       "rape molest abuse bomb burn stalk threaten terrorize terrorise lynch punch "
                       "knife bludgeon shank snipe ambush",
    [WD_LEX_CRIME] = "steal rob loot shoplift launder smuggle traffic counterfeit forge fake hack "
                     "scam defraud swindle embezzle extort blackmail bribe evade cheat pirate "
                     "vandalize vandalise slash trespass break dox spy wiretap impersonate phish "
                     "exploit breach crack jailbreak bypass sabotage disrupt poach plagiarize "
                     "manipulate groom radicalize radicalise recruit",
    [WD_LEX_MAKE] = "make build synthesize synthesise cook produce manufacture create assemble "
                    "brew grow cultivate extract refine weaponize weaponise construct craft print "
                    "design develop write code generate compose draft",
    [WD_LEX_OBTAIN] = "buy get obtain acquire find access purchase sell source order procure "
                      "download hire rent track locate",
    [WD_LEX_HIDE] = "hide conceal dispose bury cover undetected undetectable untraceable caught "
                    "detection trace anonymous anonymously secretly evidence alibi witnesses "
                    "police cops authorities unnoticed discreetly",
    [WD_LEX_PERSON] = "people person someone somebody anyone man men woman women guy girl boy "
                      "neighbor neighbour wife husband spouse partner girlfriend boyfriend ex "
                      "boss coworker colleague teacher student classmate roommate friend enemy "
                      "rival stranger cop officer policeman president senator politician mayor "
                      "minister judge witness victim mother father mom dad parent sister brother "
                      "son daughter baby family grandma grandmother grandfather babysitter "
                      "celebrity celebrities doctor nurse employee employer landlord tenant "
                      "customer him her them he she they human humans",
    [WD_LEX_SELF] = "myself yourself himself herself themselves suicide wrist wrists artery "
                    "arteries veins overdose selfharm cutting noose",
    [WD_LEX_GROUP] = "jews jewish muslims muslim christians christian hindus hindu buddhists "
                     "buddhist sikhs atheists catholics mormons immigrants refugees migrants "
                     "black blacks whites asians asian latinos hispanics arabs africans mexicans "
                     "chinese gays gay lesbians lesbian transgender trans bisexual asexual "
                     "queer lgbt lgbtq disabled disability autistic elderly poor homeless "
                     "gypsies roma indigenous natives minorities minority race races religion "
                     "religions ethnic ethnicity",
    [WD_LEX_TECH] = "process python program script thread server task app application file "
                    "files code computer machine container docker job query terminal linux "
                    "windows bug variable loop function browser tab session connection "
                    "service daemon kernel command shell git branch commit database table "
                    "column cell excel spreadsheet",
    [WD_LEX_THING] = "weeds weed time photo picture lights light engine cake onion mood party "
                     "joke game character tree trees grass ice competition argument conversation "
                     "fire garden plants plant bugs pests rats mice mosquitoes cockroaches fish "
                     "chicken beef meat steak vegetables fruit bread dough paper clothes shirt "
                     "fabric wood nails habit hiccups fever cold headache deadline interview "
                     "exam test presentation stage audience crowd speech performance",
    [WD_LEX_WEAPON] = "bomb bombs explosive explosives gun guns firearm firearms rifle pistol "
                      "grenade weapon weapons ammunition ammo detonator ied napalm thermite "
                      "molotov sarin ricin anthrax toxin toxins nerve bioweapon "
                      "pathogen virus uranium plutonium chemical silencer strychnine cyanide "
                      "arsenic thallium vx tabun soman novichok phosgene mustard botulinum abrin "
                      "tetrodotoxin anfo tatp petn rdx semtex c4 tnt nitroglycerin gunpowder "
                      "shrapnel pipe suppressor agent agents nuclear dirty",
    [WD_LEX_DRUG] = "meth methamphetamine cocaine crack heroin fentanyl drugs drug lsd mdma "
                    "ecstasy opioids opioid ketamine amphetamine pills oxycodone xanax "
                    "marijuana cannabis weed psilocybin ghb dmt pcp carfentanil morphine "
                    "mescaline crystal narcotics rohypnol roofies benzodiazepines",
    [WD_LEX_PRIVATE] = "records history password passwords address addresses ssn beliefs "
                       "diagnosis location whereabouts browsing salary credit card cards bank "
                       "account accounts medical email emails phone number messages texts dms "
                       "identity social security passport license private personal "
                       "criminal health orientation",
    [WD_LEX_HOWTO] = "how ways way steps step guide tutorial instructions instruct plan "
                     "method methods tips techniques technique recipe procedure strategy "
                     "strategies tactics best easiest quickest fastest effective effectively "
                     "detailed detail list explain teach show tell help",
    [WD_LEX_ABOUT] = "history historical why definition meaning define fiction fictional novel "
                     "story movie film book poem song character video game play roleplay "
                     "prevent prevention protect protection defend defense defence safety safe "
                     "awareness report recognize recognise signs cope coping support "
                     "legal legally ethical ethics research study studies happened "
                     "consequences risks dangers avoid stop treat treatment recover",
    [WD_LEX_DISCR] = "barred banned ban discriminated discriminate discrimination inferior "
                     "allowed segregate segregated deport deported excluded exclude denied deny "
                     "restricted restrict forbidden forbid prohibited prohibit shouldn't "
                     "should superior unwelcome",
    [WD_LEX_MINOR] = "child children kid kids minor minors teen teens teenager teenagers "
                     "underage toddler infant preteen schoolgirl schoolboy",
    [WD_LEX_SEXUAL] = "sex sexual sexually nude nudes naked explicit porn pornography erotic "
                      "intercourse genitals breasts seduce",
    [WD_LEX_DECEIVE] = "misinformation disinformation propaganda conspiracy hoax lie lies "
                       "misleading mislead persuade persuasive convince deceive trick fool "
                       "rumor rumour fake false fraudulent",
    [WD_LEX_TARGET] = "casino bank vault store shop atm car cars tires tyres house home "
                      "identity money cash wallet jewelry safe register pharmacy warehouse "
                      "museum mansion",
    [WD_LEX_CYBER] = "malware ransomware virus exploit keylogger botnet phishing backdoor "
                     "rootkit trojan ddos payload spyware worm shellcode zero-day "
                     "vulnerability credentials",
};

/* FNV-1a of the word with ASCII capitals lowered (the lists are lowercase). */
static uint32_t hash_word(const char *w, size_t len)
{
	uint32_t h = WD_LEXICON_HASH_SEED;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)w[i];
		h = (h ^ (c >= 'A' && c <= 'Z' ? c + 32u : c)) * 16777619u;
	}
	return h;
}

static void put(const char *w, size_t len, uint32_t cls)
{
	if (len == 0 || len > WORD_MAX)
		return;
	uint32_t h = hash_word(w, len), i = h & (TABLE_SIZE - 1);
	while (table[i].classes) {
		if (table[i].hash == h) {
			table[i].classes |= cls;
			return;
		}
		i = (i + 1) & (TABLE_SIZE - 1);
	}
	table[i].hash = h;
	table[i].classes = cls;
	filter[(h % FILTER_BITS) / 64] |= 1ull << (h % 64);
}

static int vowel(char c)
{
	return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
}

/* base with its regular inflections */
static void put_forms(const char *b, size_t l, uint32_t cls)
{
	char w[WORD_MAX + 8];
	put(b, l, cls);
	if (l + 4 > WORD_MAX)
		return;
	static const char *const suffixes[] = {"s", "es", "ed", "d", "ing", "er", "ers"};
	for (size_t k = 0; k < sizeof suffixes / sizeof suffixes[0]; k++) {
		size_t sl = strlen(suffixes[k]);
		memcpy(w, b, l);
		memcpy(w + l, suffixes[k], sl);
		put(w, l + sl, cls);
	}
	if (l > 2 && b[l - 1] == 'e') { /* make → making */
		memcpy(w, b, l - 1);
		memcpy(w + l - 1, "ing", 3);
		put(w, l + 2, cls);
	}
	if (l > 2 && !vowel(b[l - 1]) && vowel(b[l - 2]) && !vowel(b[l - 3])) { /* stab → stabbed */
		memcpy(w, b, l);
		w[l] = b[l - 1];
		memcpy(w + l + 1, "ing", 3);
		put(w, l + 4, cls);
		memcpy(w + l + 1, "ed", 2);
		put(w, l + 3, cls);
	}
	if (l > 2 && b[l - 1] == 'y' && !vowel(b[l - 2])) { /* bury → buried */
		memcpy(w, b, l - 1);
		memcpy(w + l - 1, "ied", 3);
		put(w, l + 2, cls);
		memcpy(w + l - 1, "ies", 3);
		put(w, l + 2, cls);
	}
}

static void build(void)
{
	for (int c = 0; c < WD_LEX_NCLASS; c++) {
		const char *p = words[c] ? words[c] : "";
		while (*p) {
			while (*p == ' ')
				p++;
			const char *e = p;
			while (*e && *e != ' ')
				e++;
			if (e > p)
				put_forms(p, (size_t)(e - p), 1u << c);
			p = e;
		}
	}
}

void wd_lexicon_init(void)
{
	pthread_once(&once, build);
}

uint32_t wd_lexicon_classes_hash(uint32_t h, size_t len)
{
	pthread_once(&once, build);
	if (len == 0 || len > WORD_MAX || !(filter[(h % FILTER_BITS) / 64] >> (h % 64) & 1))
		return 0;
	for (uint32_t i = h & (TABLE_SIZE - 1); table[i].classes; i = (i + 1) & (TABLE_SIZE - 1))
		if (table[i].hash == h)
			return table[i].classes;
	return 0;
}

uint32_t wd_lexicon_classes(const char *w, size_t len)
{
	return len == 0 || len > WORD_MAX ? 0 : wd_lexicon_classes_hash(hash_word(w, len), len);
}
