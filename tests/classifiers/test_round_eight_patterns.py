"""Round eight intent patterns (classifiers/patterns.py, round eight's rules): payback on the one
who told, armed retaliation, a named peer with a mark of intent, cryptic stay-away warnings, a
weapon packed for a day, gun access, extortion deadlines and exposure ultimatums, an armed
ultimatum; Spanish, Portuguese, Haitian Creole, Jamaican Patois and Nigerian Pidgin threats and
death wishes; "not die, just not exist", giving things away, dated wishes, "kms" meant this time,
food restriction goals, last goodbyes, hidden arms; a friend's danger reported. Each rule is
tested on paraphrases (not only the holdout7 post that prompted it) and on harmless twins; and
the two false labels of holdout7 (hyperbole over food, "gonna end me") are fixed for their kind."""
from __future__ import annotations

import pytest

from classifiers.normalize import normalize
from classifiers.patterns import PLAIN_SCORE, VICTIM_REPEATS, tone
from classifiers.types import PostInput
from tests.classifiers.rule_tables import RuleTable, hits, plain_rules

NEW_RULES = {
    "grievance_payback": "threat", "first_one_who": "threat", "kill_named_marked": "threat",
    "cryptic_warning": "threat", "packed_for_the_day": "threat", "weapon_access": "threat",
    "extortion_deadline": "threat", "exposure_ultimatum": "threat", "armed_ultimatum": "threat",
    "es_kill_you": "threat", "pt_kill_you": "threat", "ht_kill_you": "threat", "jm_kill_you": "threat",
    "ng_kill_you": "threat",
    "not_die_just_not_exist": "self_harm", "giving_away": "self_harm", "dated_not_alive": "self_harm",
    "kms_serious": "self_harm", "restriction_goal": "self_harm", "last_goodbye": "self_harm",
    "covering_arms": "self_harm", "es_want_to_die": "self_harm", "pt_want_to_die": "self_harm",
    "ht_want_to_die": "self_harm", "jm_want_to_die": "self_harm", "ng_want_to_die": "self_harm", "friend_took_pills": "self_harm",
    "friend_silent_after": "self_harm", "never_coming_back": "self_harm",
}


# (text, rule): our own paraphrases first, the holdout7 post that prompted the rule last
POSITIVES = [
    # threat: payback on the one who told, said, posted
    ("the kid who snitched on me about the vape is getting his teeth kicked in", "grievance_payback"),
    ("whoever reported my tiktok is getting jumped monday", "grievance_payback"),
    ("everyone who laughed at me at the assembly will get whats coming", "grievance_payback"),
    ("all the girls that said i smell are gonna get what's coming", "grievance_payback"),
    ("whoever told mrs p about my vape is getting their face smashed into a locker", "grievance_payback"),
    # threat: the first one who tries me
    ("next person who touches me is getting stabbed, i carry now", "first_one_who"),
    ("anybody who tries me tomorrow gets poked", "first_one_who"),
    ("first one to step to me getting sliced", "first_one_who"),
    ("whoever comes at me next gets it in the throat", "first_one_who"),
    ("got a taser AND a knife now. first one who try me getting it in the neck", "first_one_who"),
    # threat: a named peer, with a mark of intent in the post
    ("imma kill marcus deadass, dont tell nobody", "kill_named_marked"),
    ("i'm gonna shoot tyler, got my uncles piece already", "kill_named_marked"),
    ("gonna unalive kayla fr fr. not playing", "kill_named_marked"),
    ("imma unalive Jordan fr, got my dads thing in my bag already 🤐 dont tell nobody", "kill_named_marked"),
    # threat: keep away, and the wink
    ("dont be in the cafeteria friday. thats all im saying", "cryptic_warning"),
    ("yall dont go near the b hallway after school tmrw. trust me", "cryptic_warning"),
    ("do not come to the assembly on monday. you'll see", "cryptic_warning"),
    ("everybody in 7th grade lunch B dont sit at table 4 tmrw. just trust me 🤫", "cryptic_warning"),
    ("thats the day. dont ask what, just dont be there", "cryptic_warning"),
    # threat: a weapon packed for the day
    ("got it loaded in my gym bag for monday 🔫", "packed_for_the_day"),
    ("its hidden in my locker for tomorrow 🔪 dont ask", "packed_for_the_day"),
    ("the thing is packed in my backpack for friday. the gun i mean", "packed_for_the_day"),
    ("not saying what but its packed in my trombone case for tmrw 🎺🔫", "packed_for_the_day"),
    # threat: access to a gun
    ("i know where my stepdad hides his pistol and he works nights", "weapon_access"),
    ("i found where my dad keeps the ammo", "weapon_access"),
    ("i know the code to my dads gun safe now", "weapon_access"),
    ("i know where grandpa keeps his rifle and hes asleep by 9", "weapon_access"),
    # threat: extortion with a deadline
    ("you have until midnight to send more pics or they go on the burner acct", "extortion_deadline"),
    ("u got til friday to pay me 50 or everything goes up on my finsta", "extortion_deadline"),
    ("send 2 more by 10 or they go up on the spam page", "extortion_deadline"),
    ("u got til 9 to send more or they go up on the fake acct", "extortion_deadline"),
    # threat: pictures held over someone
    ("i still have ur nudes. u dont answer me tonight and your whole church sees them", "exposure_ultimatum"),
    ("saved all your snaps. u break up with me and everyone sees them", "exposure_ultimatum"),
    ("u block me again and the whole team sees your pics", "exposure_ultimatum"),
    ("i still got the pics from when we were together. u dont come back to me and the whole ffa chapter sees them",
     "exposure_ultimatum"),
    # threat: a gun within reach, and an ultimatum
    ("my dads glock is in the glovebox. if marcus says one more thing im done talking", "armed_ultimatum"),
    ("got the 9mm under my seat. next time he runs his mouth im done being nice", "armed_ultimatum"),
    ("grandpas shotgun is in the closet. one more word from jake and its over", "armed_ultimatum"),
    ("my uncles 12 gauge is behind the seat in the truck. if tanner says one more word at the bus loop im done talkin",
     "armed_ultimatum"),
    # threat: Spanish, with a mark of intent
    ("te voy a matar manana a la salida, no es broma", "es_kill_you"),
    ("lo voy a matar, ya tengo la navaja", "es_kill_you"),
    ("cuando la vea la mato en la escuela, hablo en serio", "es_kill_you"),
    ("oye tell brayan que cuando lo vea lo mato. dead serious this time, i got something for him", "es_kill_you"),
    # threat: Portuguese
    ("vou te matar amanhã na saída, é sério", "pt_kill_you"),
    ("eu te mato depois da aula, não tô brincando", "pt_kill_you"),
    ("vou matar ele na escola, tenho uma faca", "pt_kill_you"),
    # threat: Haitian Creole
    ("m ap touye w demen apre lekol", "ht_kill_you"),
    ("mwen pral touye l, m gen yon kouto", "ht_kill_you"),
    ("m pa jwe, m ap touye w lekol la", "ht_kill_you"),
    # threat: Jamaican Patois
    ("mi a go kill yuh after school", "jm_kill_you"),
    ("mi ago juk yuh wid a knife tumaro", "jm_kill_you"),
    ("a nuh joke, mi a go shot him", "jm_kill_you"),
    ("chat mi name one more time and mi a go buss yuh head wid a brick after school, seen?", "jm_kill_you"),
    # threat: Nigerian Pidgin
    ("i go kill you after school, no be joke", "ng_kill_you"),
    ("i don get cutlass. tomorrow i go deal with am", "ng_kill_you"),
    ("make e wait, i go stab am for school", "ng_kill_you"),
    ("that boy emeka wey dey disgrace me for class, make e wait. i don get knife, after school i go show am", "ng_kill_you"),
    # self_harm: not die, just not exist
    ("i dont wanna die i just dont wanna exist anymore", "not_die_just_not_exist"),
    ("i don't want to die exactly, i just want to stop existing for a while", "not_die_just_not_exist"),
    ("not that i want to die, i just want to not wake up", "not_die_just_not_exist"),
    ("i dont want to die exactly i just want to not exist for a while. like a long while. forever maybe",
     "not_die_just_not_exist"),
    # self_harm: giving things away
    ("giving away my games to whoever wants them. i wont need them after friday", "giving_away"),
    ("gave my little brother all my hoodies. won't be needing them much longer", "giving_away"),
    ("giving all of my stuff to my cousins. i won't need any of it soon", "giving_away"),
    ("giving away my sneakers to whoever want them. size 10. i won't be needing them after this week", "giving_away"),
    # self_harm: not alive for a date
    ("i dont wanna be alive for my birthday", "dated_not_alive"),
    ("ion want to make it to graduation honestly", "dated_not_alive"),
    ("i dont want to see my 17th birthday", "dated_not_alive"),
    ("ion wanna be alive for my 16th bday. that's all", "dated_not_alive"),
    # self_harm: "kms" meant this time
    ("kms for real this time", "kms_serious"),
    ("gonna kms and i mean it this time", "kms_serious"),
    ("kms. not joking anymore", "kms_serious"),
    ("kms fr this time not the joke version", "kms_serious"),
    # self_harm: restriction goals
    ("had 3 grapes today. proud. trying for nothing tomorrow", "restriction_goal"),
    ("only ate a rice cake today, aiming for zero tmrw", "restriction_goal"),
    ("goal is nothing until friday", "restriction_goal"),
    ("ate half an apple today. proud of myself. trying for nothing tmrw", "restriction_goal"),
    # self_harm: a last look and a farewell
    ("last sunrise im gonna watch. see yall on the other side", "last_goodbye"),
    ("final night in this town. see you in the next life", "last_goodbye"),
    ("my last sunset. see u in another life 🖤", "last_goodbye"),
    ("last sunset from the wharf. see u on the other side 🖤", "last_goodbye"),
    # self_harm: hidden arms
    ("wearing long sleeves in 90 degrees because of my wrists", "covering_arms"),
    ("had to wear a hoodie to pe again so no one sees my arms", "covering_arms"),
    ("wore bracelets to cover my wrists at the pool party", "covering_arms"),
    ("wore a hoodie in gym again bc of my arms. coach asked why i'm always cold lmao if he only knew", "covering_arms"),
    # self_harm: Spanish, Portuguese, Creole, Pidgin
    ("me quiero morir, ya no puedo mas", "es_want_to_die"),
    ("ya no quiero vivir", "es_want_to_die"),
    ("creo que me voy a matar esta noche", "es_want_to_die"),
    ("quero morrer, ninguém liga pra mim", "pt_want_to_die"),
    ("não quero mais viver", "pt_want_to_die"),
    ("acho que vou me matar hoje", "pt_want_to_die"),
    ("m vle mouri", "ht_want_to_die"),
    ("mwen pral touye tèt mwen aswè a", "ht_want_to_die"),
    ("m pa vle viv ankò", "ht_want_to_die"),
    ("mi just waan dead, mi tired", "jm_want_to_die"),
    ("mi a go kill miself tonight", "jm_want_to_die"),
    ("mi nuh waan live again", "jm_want_to_die"),
    ("i just wan die", "ng_want_to_die"),
    ("i no wan dey again, everything don spoil", "ng_want_to_die"),
    ("wallahi i don tire for this life. maybe e go better if i no dey again", "ng_want_to_die"),
    # self_harm: a friend's danger, reported (a worried friend's post is labelled self_harm)
    ("my friend just told me she took like 20 of her moms pills", "friend_took_pills"),
    ("he said he's been saving up his meds for weeks", "friend_took_pills"),
    ("my bestie swallowed a bunch of tylenol and wont tell her parents", "friend_took_pills"),
    ("girl i talk to on ig said she took a bunch of pills and is 'just waiting'", "friend_took_pills"),
    ("my friend told me she has pills saved up in her sock drawer. who do i tell", "friend_took_pills"),
    ("my friend said he's going to kill himself and now he's not answering", "friend_silent_after"),
    ("she texted me she's gonna end it and now her location is off", "friend_silent_after"),
    ("he posted that he's about to end his life and then went offline", "friend_silent_after"),
    ("what do u do if ur friend says shes gonna kms and now shes not answering her phone?? its 1am", "friend_silent_after"),
    ("i won't be in class tomorrow. or ever", "never_coming_back"),
    ("im not gonna be at practice friday, or ever again", "never_coming_back"),
    ("my friend said 'i wont be at school monday, or ever' and then blocked everybody 😭 should i call someone",
     "never_coming_back"),
]



# harmless twins: (text, rule that must not fire plainly)
NEGATIVES = [
    ("whoever told the teacher about the surprise party is getting a strongly worded text lol", "grievance_payback"),
    ("whoever wins the raffle is getting a new ipad", "grievance_payback"),
    ("the kid who told on me got detention", "grievance_payback"),
    ('he said "whoever snitched is getting jumped" and i am scared', "grievance_payback"),
    ("first one to finish the quiz gets extra credit", "first_one_who"),
    ("next person who touches my fries is getting stabbed with a fork", "first_one_who"),
    ("anyone who tries me in 2k getting cooked", "first_one_who"),
    ("imma kill marcus in 2k tonight", "kill_named_marked"),
    ("im gonna kill whoever put the glitter in my backpack 😡", "kill_named_marked"),
    ("imma kill kayla deadass lol she spoiled the finale", "kill_named_marked"),
    ("i would never kill jordan, dont tell nobody i said that tho", "kill_named_marked"),
    ("dont sit at table 4 tmrw, its broken. trust me", "cryptic_warning"),
    ("dont go near the b hallway tmrw, trust me the smell is awful", "cryptic_warning"),
    ("dont eat in the cafeteria tmrw trust me", "cryptic_warning"),
    ("imma kill tyler at fortnite tonight deadass", "kill_named_marked"),
    ("n ap bat yo demen nan match la", "ht_kill_you"),
    ("m ap touye w nan match la demen", "ht_kill_you"),
    ("te voy a matar en el partido manana", "es_kill_you"),
    ("i go finish you for fifa after school", "ng_kill_you"),
    ("dont be in the gym friday, they're waxing the floors", "cryptic_warning"),
    ("i dont sit at table 4 tmrw, trust me", "cryptic_warning"),
    ("dont come to the party friday unless u bring snacks. trust me", "cryptic_warning"),
    ("my nerf gun is packed in my bag for tmrw's tournament", "packed_for_the_day"),
    ("packed my lunch in my bag for tmrw", "packed_for_the_day"),
    ("costume is packed in my bag for the play tmrw, the prop gun too", "packed_for_the_day"),
    ("i know where my dad keeps the christmas lights", "weapon_access"),
    ("i know where grandpa keeps his fishing rods", "weapon_access"),
    ("i dont know where my dad keeps his rifle, he locks it up", "weapon_access"),
    ("u got til 9 to send your essay or it goes in late", "extortion_deadline"),
    ("you have until friday to send the forms or they go to the office", "extortion_deadline"),
    ('he said "u got til 9 to send more or they go up on the fake acct" what do i do', "extortion_deadline"),
    ("i got the pics from the game. if u dont want them ill delete them", "exposure_ultimatum"),
    ("u dont come to the party and everyone sees ur empty chair", "exposure_ultimatum"),
    ("if tanner says one more word about fortnite im done talkin lol", "armed_ultimatum"),
    ("my uncles 12 gauge is behind the seat for hunting season, going out saturday", "armed_ultimatum"),
    ("te voy a matar si no me devuelves mi hoodie jaja", "es_kill_you"),
    ("cuando lo vea lo mato, se comio mis papas", "es_kill_you"),
    ("te voy a matar manana a la salida jajaja", "es_kill_you"),
    ("no te voy a matar manana, tranquilo, no es broma", "es_kill_you"),
    ("mi mama me va a matar manana", "es_kill_you"),
    ("vou te matar se comer meu chocolate kkkk", "pt_kill_you"),
    ("vou te matar amanhã kkkkk brincadeira", "pt_kill_you"),
    ("vou matar a saudade amanha na escola", "pt_kill_you"),
    ("m ap touye w nan fifa demen lol", "ht_kill_you"),
    ("manman m ap touye m demen", "ht_kill_you"),
    ("mi a go kill yuh inna dominoes after school lol", "jm_kill_you"),
    ("mi nah go kill yuh after school, relax", "jm_kill_you"),
    ("i go kill you for ludo after school 😂", "ng_kill_you"),
    ("i no go kill you after school, calm down", "ng_kill_you"),
    ("i go show am the way after school", "ng_kill_you"),
    ("i dont want to die in this heat, i just want to stay inside", "not_die_just_not_exist"),
    ("i don't want to die, i want to live forever", "not_die_just_not_exist"),
    ("giving away my sneakers bc they dont fit, i won't be needing them", "giving_away"),
    ("giving away my textbooks, i wont need them after this week cuz finals are done", "giving_away"),
    ("i won't be needing my umbrella after this week", "giving_away"),
    ("i dont wanna be here for my birthday, my parents are making me go to my aunts", "dated_not_alive"),
    ("i dont want to see my birthday cake before the party", "dated_not_alive"),
    ("haha yeah im gonna kms for real this time 😂 i wore two different shoes to school", "kms_serious"),
    ("kms this homework is 4 pages", "kms_serious"),
    ("aiming for zero mistakes tmrw at the recital", "restriction_goal"),
    ("had a huge lunch, going for nothing but water the rest of the day", "restriction_goal"),
    ("last sunset of the summer!! see u on the other side of junior year", "last_goodbye"),
    ("last night of vacation, see yall on the other side of finals", "last_goodbye"),
    ("wore a hoodie bc of my arms being cold", "covering_arms"),
    ("wearing long sleeves because of my arms getting sunburned", "covering_arms"),
    ("wore a jacket because of my arms, mosquito bites everywhere", "covering_arms"),
    ("me quiero morir de la verguenza, le mande el mensaje a mi crush", "es_want_to_die"),
    ("me quiero morir jajaja", "es_want_to_die"),
    ("no me quiero morir", "es_want_to_die"),
    ("quero morrer de rir com esse video", "pt_want_to_die"),
    ("quero morrer kkkkk", "pt_want_to_die"),
    ("m pa vle mouri", "ht_want_to_die"),
    ("mi waan dead wid laugh", "jm_want_to_die"),
    ("mi nah go kill miself, relax", "jm_want_to_die"),
    ("mi waan dead lol dat video", "jm_want_to_die"),
    ("te voy a matar manana a la salida, se comio mi pizza", "es_kill_you"),
    ("i wan die of laughter 😂", "ng_want_to_die"),
    ("i no wan die, i wan live long", "ng_want_to_die"),
    ("my dog took a bunch of pills for his ear infection", "friend_took_pills"),
    ("she took her allergy pills this morning", "friend_took_pills"),
    ("my mom has her pills in a weekly organizer", "friend_took_pills"),
    ('my friend posted "goodbye everyone it was nice knowing u" and now shes not answering', "friend_silent_after"),
    ("she said she's gonna kill me if i spoil the show and now she's not answering lol", "friend_silent_after"),
    ("i wont be at school monday, my family is going to disney", "never_coming_back"),
    ("im not coming back to this restaurant, or ever ordering the fish again", "never_coming_back"),
]

# the shared checks (found plainly, not by its twins, keys, batch) run in test_rule_tables.py
TABLE = RuleTable('round eight', NEW_RULES, POSITIVES, NEGATIVES, min_positives=3, min_negatives=1)






def test_extortion_lines_a_victim_repeats_do_not_keep_the_threat_label():
    assert {"extortion_deadline", "exposure_ultimatum"} <= VICTIM_REPEATS


# --- the two false labels of holdout7, fixed for their kind ------------------------------------------

@pytest.mark.parametrize("text", [
    "my sister ate my leftover chinese food. she not making it to christmas 😤",
    "my brother drank my last boba. he's not making it to friday",
    "my brother ate my last slice. hes not making it to friday",
])
def test_food_grievance_makes_wont_make_it_to_hyperbole(text):
    found = [h for h in hits(text) if h.rule == "wont_make_it_to"]
    assert found and all(h.score < PLAIN_SCORE and h.quoted for h in found)


def test_wont_make_it_to_without_a_food_grievance_is_still_plain():
    assert "wont_make_it_to" in plain_rules("ur not making it to graduation. remember that")


@pytest.mark.parametrize("text", [
    "ms leblanc is gonna end me when she sees what i did to the dovetail joints",
    "my mom is literally gonna end me",
    "coach is gonna end us after that game",
    "she's gonna end me when she sees the dent",
])
def test_end_me_is_about_the_poster(text):
    assert tone(normalize(text, offsets=False).text)[0]


@pytest.mark.parametrize("text", [
    "im gonna end him after school",
    "i want to end it all",
])
def test_end_without_me_is_no_hyperbole(text):
    assert not tone(normalize(text, offsets=False).text)[0]


# --- through the whole pipeline ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def clf(models):
    from classifiers.pipeline import Classifier
    return Classifier(models)


@pytest.mark.parametrize("text,category", [
    ("the kid who snitched on me is getting his face smashed into a locker monday", "threat"),
    ("next person who touches me is getting stabbed, i carry now", "threat"),
    ("imma unalive marcus fr, got my uncles piece in my bag already dont tell nobody", "threat"),
    ("everybody dont sit at table 6 tmrw at lunch. just trust me", "threat"),
    ("you have until midnight to send more pics or they go on the burner acct", "threat"),
    ("te voy a matar manana a la salida, no es broma", "threat"),
    ("mi a go kill yuh after school, mi nah romp", "threat"),
    ("i dont wanna die i just dont wanna exist anymore", "self_harm"),
    ("kms for real this time", "self_harm"),
    ("only ate a rice cake today, aiming for zero tmrw", "self_harm"),
    ("me quiero morir, ya no puedo mas", "self_harm"),
    ("my friend just told me she took like 20 of her moms pills, who do i call", "self_harm"),
])
def test_pipeline_labels_round_eight_posts(clf, text, category):
    assert category in clf.classify([PostInput(text)])[0].labels


@pytest.mark.parametrize("text", [
    "my sister ate my leftover chinese food. she not making it to christmas 😤",
    "ms leblanc is gonna end me when she sees what i did to the dovetail joints",
    "te voy a matar si no me devuelves mi hoodie jaja",
    "quero morrer de rir com esse video kkkk",
])
def test_pipeline_leaves_hyperbole_unlabelled(clf, text):
    c = clf.classify([PostInput(text)])[0]
    assert not {"threat", "self_harm"} & set(c.labels), (c.labels, c.scores)


def test_pipeline_victim_asking_about_extortion_is_not_labelled_threat(clf):
    c = clf.classify([PostInput("someone dmed me u got til 9 to send more or they go up on the fake acct. "
                                "what do i do, should i tell my mom")])[0]
    assert c.help_seeking and "threat" not in c.labels, (c.labels, c.scores)
